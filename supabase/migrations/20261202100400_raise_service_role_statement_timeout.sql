/**
 * The largest allowed cohort-sync delivery (100,000 members) fits its statement timeout with a
 * margin (issue 17, item 6).
 *
 * The sync is one RPC, i.e. one statement. Its timeout is armed when that statement starts, from
 * the statement_timeout then in force: PostgREST's authenticator session (8 s), or the
 * impersonated role's own setting, which PostgREST (v12+) applies per transaction. A
 * function-level `set statement_timeout` does NOT extend it (the timer is already running; the
 * pgTAP file 23 shows it), and chunking inside the function is still the same statement. So the
 * service role, whose only caller is the cohort-sync function (and operators), gets its own
 * setting. bench/ and the report of issue 17 give the measured durations (a 100k snapshot takes
 * several seconds on a loaded 2-core machine, an all-rows-changed one more); 60 s leaves a margin
 * of several times that, and stays below the function's 120 s HTTP read timeout, so a timeout is
 * still reported by the database (and recorded as `failure_reason = timeout`), not by the client.
 */

alter role service_role set statement_timeout = '60s';
-- PostgREST (and the local stand-in) read role settings into their schema cache.
notify pgrst, 'reload schema';
