"""Command line for the local stack: ``python -m devstack <command>`` (the Makefile wraps it).

Commands:
  start [--name N]   create or restart the cluster (bootstrap, migrations, seed) and return
  serve [--name N]   start, then serve the API gateway + functions in the foreground
  stop  [--name N]   stop the cluster
  reset [--name N]   destroy and recreate the cluster
  status [--name N]  print the connection settings as KEY="value" lines
  token --email E [--admin] [--ttl S]   create the auth user if needed and print an access token
"""

from __future__ import annotations

import argparse
import sys

from devstack import settings
from devstack.cluster import Cluster, ClusterError


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "serve", "stop", "reset", "status", "token"])
    parser.add_argument("--name", default="dev", help="cluster name under .devstack/ (default: dev)")
    parser.add_argument("--email", help="token: the user's e-mail")
    parser.add_argument("--admin", action="store_true", help="token: add app_metadata.prompt_admin")
    parser.add_argument("--ttl", type=int, default=3600, help="token: lifetime in seconds")
    args = parser.parse_args(argv)

    port = settings.DB_PORT if args.name == "dev" else None
    cluster = Cluster.named(args.name, port)
    try:
        if args.command == "start":
            cluster.ensure()
            print("\n".join(status_lines(cluster, settings.API_PORT)))
        elif args.command == "serve":
            cluster.ensure()
            from devstack.gateway.server import serve  # imported late: needs the dev extras

            print("\n".join(status_lines(cluster, settings.API_PORT)), flush=True)
            serve(cluster.url("authenticator", "postgres"), port=settings.API_PORT)
        elif args.command == "stop":
            cluster.stop()
        elif args.command == "reset":
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

            print(sign_in(cluster.db_url, args.email, admin=args.admin, ttl=args.ttl))
    except ClusterError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
