#!/usr/bin/env node
console.error('warden: the CLI is being built');
process.exit(1);
