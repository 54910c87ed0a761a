/**
 * The agent's side of the central rules store (engine/distribution), as its own entry point:
 * `npm run build` writes it to dist/agent-policy-store.js next to the agent bundles, which load it
 * only when WARDEN_POLICY_STORE is set (a function without a store never parses it at cold start).
 */
export { startAgentPolicyRefresh } from '../distribution/agent-refresh';
