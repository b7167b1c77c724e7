"""Command line for the local stack: ``python -m devstack <command>`` (the Makefile wraps it).

Commands:
  start [--name N]   create or restart the cluster (bootstrap, migrations, seed) and return
  serve [--name N]   start, then serve the API gateway + functions in the foreground
  stop  [--name N]   stop the API servers (`make dev`) and the cluster
  reset [--name N]   destroy and recreate the cluster
  status [--name N]  print the connection settings as KEY="value" lines
  token --email E [--admin] [--ttl S] [--workspace SLUG [--role R]]
                     create the auth user if needed (and make them a member of the workspace
                     with role R, default viewer) and print an access token
"""

from __future__ import annotations

import argparse
import sys

from devstack import apiproc, settings
from devstack.cluster import Cluster, ClusterError, free_port, port_is_free


def status_lines(cluster: Cluster, api_port: int) -> list[str]:
    """The variables `supabase status -o env` prints, plus this project's own."""
    api_url = f"http://127.0.0.1:{api_port}"
    values = {
        "API_URL": api_url,
        "REST_URL": f"{api_url}/rest/v1",
        "FUNCTIONS_URL": f"{api_url}/functions/v1",
        "MAILPIT_URL": f"{api_url}/_devstack/mailbox",  # the Auth stand-in's local mailbox
        "DB_URL": cluster.db_url,
        "ANON_KEY": settings.anon_key(),
        "SERVICE_ROLE_KEY": settings.service_role_key(),
        "JWT_SECRET": settings.jwt_secret(),
        "COHORT_SYNC_WEBHOOK_SECRET": settings.webhook_secret(),
    }
    return [f'{key}="{value}"' for key, value in values.items()]


def check_api_port(cluster: Cluster, port: int) -> None:
    """Fail early, with the variable to set, when the API port is taken (by us or anyone)."""
    for api in apiproc.running(cluster.directory):
        if api.port == port:
            raise ClusterError(f"the API already serves this checkout on http://127.0.0.1:{port} (pid {api.pid}); "
                               "use it, stop it with `make stop`, or set API_PORT to serve another")
    if not port_is_free(port):
        raise ClusterError(f"API port {port} is in use by another program; stop it or set API_PORT to a free "
                           f"port (e.g. API_PORT={free_port()})")


def serve(cluster: Cluster, port: int) -> None:
    """`make dev`: start the database, then serve the API in the foreground until stopped."""
    from devstack.gateway import server  # imported late: needs the dev extras

    check_api_port(cluster, port)
    cluster.ensure()
    print("\n".join(status_lines(cluster, port)), flush=True)
    print(f"devstack: database state in {cluster.directory} (log: {cluster.log_file})", file=sys.stderr, flush=True)
    try:
        server.serve(cluster.url("authenticator", "postgres"), port=port, pid_dir=cluster.directory)
    except server.PortInUse as exc:
        raise ClusterError(exc.strerror) from None
    except KeyboardInterrupt:
        pass
    print("devstack: API stopped", file=sys.stderr)


def stop(cluster: Cluster) -> None:
    """`make stop`: stop the API servers of this cluster, then the database."""
    for api in apiproc.running(cluster.directory):
        apiproc.stop(api)
        print(f"devstack: stopped the API on port {api.port} (pid {api.pid})", file=sys.stderr)
    if cluster.is_running():
        cluster.stop()
        print(f"devstack: stopped database {cluster.directory.name!r}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "serve", "stop", "reset", "status", "token"])
    parser.add_argument("--name", default="dev", help="cluster name under the state root (default: dev)")
    parser.add_argument("--email", help="token: the user's e-mail")
    parser.add_argument("--admin", action="store_true", help="token: add app_metadata.prompt_admin")
    parser.add_argument("--ttl", type=int, default=3600, help="token: lifetime in seconds")
    parser.add_argument("--workspace", help="token: make the user a member of this workspace (slug) first")
    parser.add_argument("--role", default="viewer",
                        choices=["viewer", "contributor", "approver", "admin", "owner"],
                        help="token: the role in --workspace (default: viewer)")
    args = parser.parse_args(argv)

    port = settings.DB_PORT if args.name == "dev" else None
    cluster = Cluster.named(args.name, port)
    try:
        if args.command == "start":
            cluster.ensure()
            print("\n".join(status_lines(cluster, settings.API_PORT)))
        elif args.command == "serve":
            serve(cluster, settings.API_PORT)
        elif args.command == "stop":
            stop(cluster)
        elif args.command == "reset":
            stop(cluster)
            cluster.destroy()
            cluster.ensure()
            print("\n".join(status_lines(cluster, settings.API_PORT)))
        elif args.command == "status":
            if not cluster.is_running():
                print(f"devstack: cluster '{args.name}' is not running (run `make dev`)", file=sys.stderr)
                return 1
            print("\n".join(status_lines(cluster, settings.API_PORT)))
        elif args.command == "token":
            if not args.email:
                parser.error("token needs --email")
            from devstack.tokens import sign_in

            try:
                print(sign_in(cluster.db_url, args.email, admin=args.admin, ttl=args.ttl,
                              workspace=args.workspace, role=args.role))
            except RuntimeError as exc:
                print(f"devstack: {exc}", file=sys.stderr)
                return 2
    except ClusterError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
