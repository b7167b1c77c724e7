/**
 * Learner-only RPCs are not the service role's (issue 17, item 7). Supabase's default privileges
 * give service_role EXECUTE on every new function in `public`, and the v1 migrations revoked only
 * from public and anon. These three act for "the caller" (auth.uid()); the service role has no
 * user, so every call of theirs is a mistake or an attempt to act as someone:
 *   set_telemetry_opt_out(boolean), ingest_usage_events(jsonb), check_prompt_access().
 * (The fn_* policy helpers stay executable: they are granted explicitly, and return false for a
 * caller without a user.)
 */

revoke execute on function public.set_telemetry_opt_out(boolean) from service_role;
revoke execute on function public.ingest_usage_events(jsonb) from service_role;
revoke execute on function public.check_prompt_access() from service_role;
