import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Warden } from './warden';

export interface WardenAppEnv {
  WARDEN_RULES_DIR?: string;
  WARDEN_SLACK_SIGNING_SECRET_ARN?: string;
  WARDEN_SLACK_BOT_TOKEN_ARN?: string;
  WARDEN_STACK_NAME?: string;
  WARDEN_AGENT_ACCOUNTS?: string;
  /** "1" creates the signed policy store (bucket, signing key, publisher role) */
  WARDEN_ENABLE_POLICY_STORE?: string;
  /** the store's public key (PEM file from `warden keys public`): engine and agents then use the store */
  WARDEN_POLICY_PUBLIC_KEY_FILE?: string;
  /** the exceptions signing key's public key (PEM file): agents then honour approved exceptions from the store */
  WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE?: string;
  /** "0" skips the cdk-nag AwsSolutions checks during synth (they run in the test suite anyway) */
  WARDEN_NAG?: string;
  [k: string]: string | undefined;
}

export const DEFAULT_STACK_NAME = 'Warden';

/** The one stack of the Warden app: a `Warden` construct configured from the environment. */
export function buildWardenApp(app: App, env: WardenAppEnv): { stack: Stack; warden: Warden } {
  const stack = new Stack(app, env.WARDEN_STACK_NAME ?? DEFAULT_STACK_NAME, {
    description: 'Warden: access-policy engine for AWS serverless (bus, rules engine, response workflows)',
  });
  const warden = new Warden(stack, 'Warden', {
    rules: env.WARDEN_RULES_DIR ?? 'rules',
    slack: {
      signingSecretArn: env.WARDEN_SLACK_SIGNING_SECRET_ARN || undefined,
      botTokenArn: env.WARDEN_SLACK_BOT_TOKEN_ARN || undefined,
    },
    agentAccounts: env.WARDEN_AGENT_ACCOUNTS ? env.WARDEN_AGENT_ACCOUNTS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    policyStore: env.WARDEN_ENABLE_POLICY_STORE === '1'
      ? {
        publicKeyPem: env.WARDEN_POLICY_PUBLIC_KEY_FILE ? readFileSync(env.WARDEN_POLICY_PUBLIC_KEY_FILE, 'utf8') : undefined,
        exceptionsPublicKeyPem: env.WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE ? readFileSync(env.WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE, 'utf8') : undefined,
      }
      : undefined,
  });
  if (env.WARDEN_NAG !== '0') Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stack, warden };
}
