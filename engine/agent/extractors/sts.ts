import { str, type Extractor } from './context';

/** STS: the role ARN of AssumeRole*; GetCallerIdentity and session-token calls have no resource. */
export const sts: Extractor = (_action, input) => {
  const role = str(input.RoleArn);
  return role ? [role] : [];
};
