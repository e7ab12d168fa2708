// The built-in policy plugin: an in-process authorizer named "authz-policy" judging requests by
// the rules of a JSON file. SIGHUP re-reads the file; an invalid new file keeps the old policy.
import { definePlugin } from '../../core/plugins/context.js';
import type { AuthzService } from '../authz/index.js';
import { loadPolicy, type Policy } from './policy.js';

export default definePlugin({
  async init(ctx) {
    const authz = ctx.services.get<AuthzService>('authz');
    let file = ctx.config['authz-policy-file'] as string | undefined;
    // A bad policy at start stops the daemon with the error naming the rule.
    let policy: Policy | undefined = file ? await loadPolicy(file, ctx.schema) : undefined;
    if (policy) ctx.log.info({ file, rules: policy.ruleCount }, 'authorization policy loaded');

    authz.register('authz-policy', {
      authorizeRequest: (req) => (policy
        ? policy.evaluate(req, authz.apiSockets())
        : { allow: false, msg: 'no policy file is configured (authz-policy-file)' }),
    });

    ctx.hooks.reload.tapPromise('authz-policy', async ({ changed }) => {
      if ('authz-policy-file' in changed) file = changed['authz-policy-file'] as string | undefined;
      if (!file) {
        policy = undefined;
        return;
      }
      try {
        policy = await loadPolicy(file, ctx.schema);
        ctx.log.info({ file, rules: policy.ruleCount }, 'authorization policy reloaded');
      } catch (err) {
        ctx.log.error({ file, err: (err as Error).message }, 'authorization policy not reloaded; the previous policy stays in force');
      }
    });
  },
});
