/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdk.out/'],
  // CDK synth and dynalite start-ups are slow on 2 shared cores.
  testTimeout: 60000,
  // synthesizes the Warden app once per run into cdk.out/ (skipped when no input changed)
  globalSetup: '<rootDir>/test/infra/global-setup.ts',
};
