/**
 * `warden/agent`: observe, decide and block every outbound access of a Lambda function.
 *
 *   const { withWarden } = require('warden/agent');        // or: import { withWarden } from 'warden/agent'
 *   exports.handler = withWarden(async (event, context) => { ... });
 */
export { withWarden, install, uninstall, flush, currentAgent, loadPolicy, ALL_CAPTURES, type InstallOptions, type CaptureName } from './runtime';
export { AccessDeniedByPolicy, WardenAgentError, WardenConfigError, PolicyUnavailableError } from './errors';
export { AgentCore, RULE_POLICY_UNAVAILABLE, RULE_DECIDE_ERROR, type AccessRecord, type EventSink, type DeliveryReport, type AgentStats } from './core';
export { configFromEnv, type AgentConfig } from './config';
export { PutEventsSink, batchEntries, entrySize, toEntry, MAX_ENTRIES_PER_CALL, MAX_REQUEST_BYTES } from './emitter';
export { EXTRACTORS, extractResources, servicePrefix } from './extractors';
