"""Load a throwaway database to the contract's sizes (§6, §8) with COPY, reproducibly by seed.

At scale 1, v1 (§6): the default course workspace with 100 modules x 10 lessons, 100k prompts and
1M versions (10 per prompt on average); 100k cohort members (80k people in 40 cohorts), 10M
usage-log rows. v2 (§8): 10k team and course workspaces (90% team, 10% course with two modules
each, bound to one or two cohorts, 1% soft-deleted) with ~12 members each (one owner, other roles
mixed), a personal workspace for every user, and 900k more prompts (1.5 versions each, 80%
published): 10% in personal libraries, the rest over the shared workspaces with a skewed size
(one "big" workspace holds 2%). Four bench users are members of 1, 10, 100 and 1000 shared
workspaces (various roles; viewer of the benchmark's target workspace). `--scale` multiplies every
size; `--seed` makes the data identical from run to run (ids are derived from counters, all
choices from one `random.Random(seed)`).

How it loads fast, and why the data still satisfies every rule the database enforces:
- One transaction as the superuser: TRUNCATE the tables, then `COPY ... (FREEZE)` into each
  (rows are written frozen and all-visible, so no VACUUM pass over 10M rows is needed).
- `session_replication_role = replica` for that transaction: ordinary triggers (version
  numbering, the current-version guard, the usage-log version stamp) and the foreign-key
  triggers do not fire. The generator writes what those triggers would have written (gap-free
  version numbers from 1, `current_version_id` -> a published version of the same prompt,
  `version_id` = the prompt's current version, `source_hash` as the sync RPC computes it, one
  personal workspace per user with the user as its only member and owner, an owner for every
  shared workspace, the default course workspace, a prompt's and usage event's workspace = its
  module's / prompt's), and
  `check_invariants()` proves it afterwards with set-based queries, including an anti-join for
  every foreign key in the schema. CHECK constraints are not triggers: they are enforced as usual.
- prompt_usage_logs' indexes are dropped before its COPY and rebuilt after (a sort-based build
  is far cheaper than 10M random B-tree inserts), from their exact `pg_get_indexdef`.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from hashlib import md5

import psycopg

# Midnight UTC of the run's day: a seed gives identical ids and content; timestamps are relative
# to the day, so the retention job (365 days) never finds generated rows old enough to purge.
NOW = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)

# id "kinds" (the second group of every generated uuid)
K_USER, K_MODULE, K_LESSON, K_PROMPT, K_VERSION, K_MEMBER, K_SPECIAL, K_WORKSPACE = range(1, 9)

# Memberships of the four bench users (capped at the number of shared workspaces).
MEMBERSHIP_LEVELS = (1, 10, 100, 1000)
ROLE_CYCLE = ("viewer", "contributor", "viewer", "approver", "admin", "viewer", "owner")

LOADED_TABLES = [
    "auth.users", "public.workspaces", "public.workspace_members", "public.workspace_cohorts",
    "public.workspace_invitations", "public.prompt_admins", "public.prompt_user_preferences",
    "public.course_cohort_members", "public.prompt_modules", "public.prompt_lessons",
    "public.prompts", "public.prompt_versions", "public.prompt_usage_logs",
]


def make_uuid(kind: int, n: int) -> str:
    """A valid v4-shaped uuid, unique per (kind, n), scattered in index order like random ids."""
    scatter = (n * 2654435761 + kind * 40503) & 0xFFFFFFFF
    return f"{scatter:08x}-{kind:04x}-4{(n >> 48) & 0xFFF:03x}-8{(n >> 36) & 0xFFF:03x}-{n & 0xFFFFFFFFFFFF:012x}"


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def source_hash(email: str, first: str | None, last: str | None, circle: str | None, status: str) -> str:
    """md5 of jsonb_build_array(...)::text, exactly as sync_cohort_members() computes it (ASCII)."""
    return md5(json.dumps([email, first, last, circle, status]).encode()).hexdigest()


@dataclass
class Sizes:
    scale: float
    modules: int
    lessons_per_module: int
    prompts: int
    versions: int
    members: int
    people: int
    cohorts: int
    usage_logs: int
    shared_workspaces: int = 0
    workspace_prompts: int = 0

    @classmethod
    def for_scale(cls, scale: float) -> "Sizes":
        prompts = max(200, round(100_000 * scale))
        members = max(200, round(100_000 * scale))
        return cls(
            scale=scale,
            modules=max(2, round(100 * scale)),
            lessons_per_module=10,
            prompts=prompts,
            versions=prompts * 10,
            members=members,
            people=round(members * 0.8),
            cohorts=max(2, round(40 * scale)),
            usage_logs=max(1000, round(10_000_000 * scale)),
            shared_workspaces=max(20, round(10_000 * scale)),
            workspace_prompts=max(1800, round(900_000 * scale)),
        )


@dataclass
class Dataset:
    """What the benchmarks need to know about the generated data."""

    sizes: Sizes
    seed: int
    admin: dict = field(default_factory=dict)        # {id, email}
    learner: dict = field(default_factory=dict)      # active member, opted in
    outsider: dict = field(default_factory=dict)     # signed in, no membership
    learners: list[dict] = field(default_factory=list)  # more active members (for concurrency)
    module_id: str = ""                              # a module with >= 50 published prompts
    module_prompt_id: str = ""                       # a visible prompt of that module
    visible_prompt_ids: list[str] = field(default_factory=list)
    hidden_prompt_ids: list[str] = field(default_factory=list)  # drafts/deleted (dropped on ingest)
    default_workspace_id: str = ""
    target_workspace: dict = field(default_factory=dict)   # {id, published}: a team workspace, ~80 prompts
    big_workspace: dict = field(default_factory=dict)      # {id, published}: 2% of the shared prompts
    workspace_prompt_id: str = ""                          # a visible prompt of the target workspace
    ws_members: list[dict] = field(default_factory=list)   # {id, email, memberships}, one per level
    timings: dict = field(default_factory=dict)      # seconds per load step
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"scale": self.sizes.scale, "seed": self.seed, "sizes": self.sizes.__dict__,
                "counts": self.counts, "load_seconds": self.timings}


PARAGRAPHS = [
    "You are an experienced {role}. Your audience is {audience}; keep that in mind for every sentence.",
    "Before answering, restate the task in one sentence and list any assumption you are making.",
    "Use the context below as your only source. If it does not contain the answer, say so plainly.",
    "Return the result as a Markdown table with the columns you find most useful, at most eight rows.",
    "Think step by step, but show only the final answer and a short justification of two lines.",
    "Ask me up to three clarifying questions first if anything important is ambiguous.",
    "Write in plain English at a reading age of about fourteen. Avoid jargon unless you define it.",
    "Give three alternatives, each with one strength and one weakness, then recommend one of them.",
    "Check your answer against the constraints listed above and fix anything that breaks them.",
    "Context:\\n\\n```\\n{{paste your text here}}\\n```",
    "Format: a title, a one-paragraph summary, then bullet points grouped under short headings.",
    "If you quote the source, quote it exactly and say where the passage comes from.",
]
ROLES = ["editor", "data analyst", "software engineer", "teacher", "researcher", "product manager"]
AUDIENCES = ["busy executives", "first-year students", "senior engineers", "a general audience"]
TAGS = ["basics", "format", "json", "summary", "critique", "code", "data", "research", "writing"]
FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jin", "Kai", "Lea"]
LAST = ["Okafor", "Jones", "Silva", "Novak", "Tanaka", "Meyer", "Haddad", "Kowalski", "Berg"]
METADATA = ['{"source": "web"}', '{"source": "mobile"}', '{"source": "web", "lesson_step": 2}',
            '{"client": "extension", "source": "web"}']


class Loader:
    def __init__(self, admin_url: str, scale: float, seed: int, log=print) -> None:
        self.url = admin_url
        self.sizes = Sizes.for_scale(scale)
        self.rng = random.Random(seed)
        self.data = Dataset(self.sizes, seed)
        self.log = log
        # filled while generating
        self.person_users: list[tuple[str, str]] = []  # (user id, email) per person
        self.opted_out: set[int] = set()
        self.active_people: list[int] = []
        self.visible: list[tuple[str, str]] = []  # (prompt id, current version id), course library
        self.all_users: list[str] = []             # every auth user id, in load order
        self.ws_default = make_uuid(K_WORKSPACE, 0)
        self.ws_shared: list[dict] = []            # {id, kind, deleted, owner, members {uid: role}, modules}
        self.ws_member_sets: dict[int, list[tuple[int, str]]] = {}  # level -> [(shared index, role)]

    # -- COPY helpers ----------------------------------------------------------------------
    def _copy(self, cur: psycopg.Cursor, table: str, columns: list[str], rows) -> int:
        start = time.perf_counter()
        count = 0
        buf: list[str] = []
        with cur.copy(f"copy {table} ({', '.join(columns)}) from stdin with (freeze)") as copy:
            for line in rows:
                buf.append(line)
                if len(buf) >= 20000:
                    copy.write("".join(buf))
                    count += len(buf)
                    buf.clear()
            if buf:
                copy.write("".join(buf))
                count += len(buf)
        took = time.perf_counter() - start
        self.data.timings[f"copy {table}"] = round(took, 2)
        self.data.counts[table] = count
        self.log(f"  copy {table:32s} {count:>10,d} rows in {took:6.1f} s ({count / max(took, 1e-9):,.0f} rows/s)")
        return count

    # -- generators --------------------------------------------------------------------------
    def users(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=400))
        special = [
            (make_uuid(K_SPECIAL, 1), "bench-admin@example.com"),
            (make_uuid(K_SPECIAL, 2), "bench-outsider@example.com"),
        ]
        self.data.admin = {"id": special[0][0], "email": special[0][1]}
        self.data.outsider = {"id": special[1][0], "email": special[1][1]}
        levels = list(dict.fromkeys(min(n, s.shared_workspaces) for n in MEMBERSHIP_LEVELS))
        members = [(make_uuid(K_SPECIAL, 10 + n), f"ws-member-{n}@bench.example.org") for n in levels]
        self.data.ws_members = [{"id": uid, "email": email, "memberships": n}
                                for (uid, email), n in zip(members, levels)]
        self.person_users = [(make_uuid(K_USER, p), f"learner{p}@bench.example.org") for p in range(s.people)]
        meta = '{"provider": "email", "providers": ["email"]}'
        self.all_users = [uid for uid, _ in special + members + self.person_users]
        for uid, email in special + members + self.person_users:
            yield (f"{uid}\tauthenticated\tauthenticated\t{email}\t{created}\t{meta}\t{{}}\t"
                   f"{created}\t{created}\n")

    def preferences(self):
        # 3% of people opted out of telemetry (their events are stored anonymously)
        created = ts(NOW - timedelta(days=30))
        for p in range(self.sizes.people):
            if self.rng.random() < 0.03:
                self.opted_out.add(p)
                yield f"{self.person_users[p][0]}\tt\t{created}\t{created}\n"

    def members(self):
        s = self.sizes
        rng = self.rng
        active = set()
        for r in range(s.members):
            if r < s.people:
                person, cohort = r, r % s.cohorts
            else:  # a second (usually older) membership of an earlier person
                person = r - s.people
                cohort = (person % s.cohorts + 1) % s.cohorts
            email = self.person_users[person][1]
            first, last = FIRST[person % len(FIRST)], LAST[(person // 7) % len(LAST)]
            circle = f"circle-{person}" if person % 10 else None
            draw = rng.random()
            status = "active" if draw < 0.85 else ("inactive" if draw < 0.95 else "revoked")
            if status == "active":
                active.add(person)
            synced = NOW - timedelta(days=rng.randrange(1, 300))
            revoked = ts(synced) if status != "active" else "\\N"
            yield (f"{make_uuid(K_MEMBER, r)}\tcohort-{cohort:03d}\t{email}\t{first}\t{last}\t"
                   f"{circle or chr(92) + 'N'}\t{status}\t{revoked}\t"
                   f"{source_hash(email, first, last, circle, status)}\t{ts(synced)}\t"
                   f"{ts(synced - timedelta(days=30))}\t{ts(synced)}\n")
        self.active_people = sorted(active)

    def plan_workspaces(self) -> None:
        """Shared workspaces (90% team, 10% course, 1% soft-deleted), their members and the bench
        users' memberships. Index 1 is the "big" workspace, index 2 the target of the list reads."""
        s = self.sizes
        rng = self.rng
        n_modules = s.modules
        for k in range(s.shared_workspaces):
            kind = "course" if k % 10 == 0 else "team"
            owner = self.person_users[rng.randrange(s.people)][0]
            members = {owner: "owner"}
            for _ in range(rng.randint(2, 20)):
                draw = rng.random()
                role = ("viewer" if draw < 0.5 else "contributor" if draw < 0.75 else "approver" if draw < 0.83
                        else "admin" if draw < 0.95 else "owner")
                members.setdefault(self.person_users[rng.randrange(s.people)][0], role)
            modules = []
            if kind == "course":
                modules = [make_uuid(K_MODULE, n_modules), make_uuid(K_MODULE, n_modules + 1)]
                n_modules += 2
            self.ws_shared.append({"id": make_uuid(K_WORKSPACE, 1 + k), "kind": kind, "owner": owner,
                                   "deleted": k >= 3 and k % 100 == 55, "members": members,
                                   "modules": modules, "cohorts": sorted({k % s.cohorts, (k * 7) % s.cohorts})
                                   if kind == "course" else []})
        others = list(range(3, s.shared_workspaces))
        rng.shuffle(others)
        order = [2, 1] + others  # nested sets: every level contains the smaller ones
        for member in self.data.ws_members:
            n = member["memberships"]
            picked = [(k, "viewer" if k in (1, 2) else ROLE_CYCLE[j % len(ROLE_CYCLE)])
                      for j, k in enumerate(order[:n])]
            self.ws_member_sets[n] = picked
            for k, role in picked:
                self.ws_shared[k]["members"][member["id"]] = role
        self.data.default_workspace_id = self.ws_default
        self.data.target_workspace = {"id": self.ws_shared[2]["id"]}
        self.data.big_workspace = {"id": self.ws_shared[1]["id"]}

    def personal_workspace_id(self, u: int) -> str:
        return make_uuid(K_WORKSPACE, 1 + self.sizes.shared_workspaces + u)

    def workspaces(self):
        created = NOW - timedelta(days=500)
        c = ts(created)
        yield (f"{self.ws_default}\tcourse\tCourse library\tThe course's prompt library (v1).\tcourse\t\\N\tt\tf\t"
               f"\\N\t\\N\t{c}\t{c}\t\\N\n")
        for k, ws in enumerate(self.ws_shared):
            deleted = ts(NOW - timedelta(days=3)) if ws["deleted"] else "\\N"
            yield (f"{ws['id']}\t{ws['kind']}-{k}\t{ws['kind'].title()} workspace {k}\t\\N\t{ws['kind']}\t\\N\tf\t"
                   f"{'t' if k % 20 == 7 else 'f'}\t{ws['owner']}\t{ws['owner']}\t{c}\t{c}\t{deleted}\n")
        for u, uid in enumerate(self.all_users):
            yield (f"{self.personal_workspace_id(u)}\tu-{uid.replace('-', '')}\tPersonal library\t\\N\tpersonal\t"
                   f"{uid}\tf\tf\t{uid}\t{uid}\t{c}\t{c}\t\\N\n")

    def workspace_members(self):
        c = ts(NOW - timedelta(days=500))
        for ws in self.ws_shared:
            for uid, role in ws["members"].items():
                yield f"{ws['id']}\t{uid}\t{role}\t{ws['owner']}\t{ws['owner']}\t{c}\t{c}\n"
        for u, uid in enumerate(self.all_users):
            yield f"{self.personal_workspace_id(u)}\t{uid}\towner\t{uid}\t{uid}\t{c}\t{c}\n"

    def workspace_cohorts(self):
        c = ts(NOW - timedelta(days=500))
        for ws in self.ws_shared:
            for cohort in ws["cohorts"]:
                yield f"{ws['id']}\tcohort-{cohort:03d}\t{ws['owner']}\t{c}\n"

    def modules(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=800))
        for m in range(s.modules):
            yield (f"{make_uuid(K_MODULE, m)}\t{self.ws_default}\tmodule-{m}\tModule {m}\tWhat module {m} covers.\t"
                   f"{m + 1}\t{created}\t{created}\n")
        for ws in self.ws_shared:
            for j, module in enumerate(ws["modules"]):
                yield (f"{module}\t{ws['id']}\tmodule-{j}\tModule {j}\tWhat module {j} covers.\t{j + 1}\t"
                       f"{created}\t{created}\n")

    def lessons(self):
        s = self.sizes
        created = ts(NOW - timedelta(days=800))
        for m in range(s.modules):
            for le in range(s.lessons_per_module):
                n = m * s.lessons_per_module + le
                yield (f"{make_uuid(K_LESSON, n)}\t{make_uuid(K_MODULE, m)}\t{self.ws_default}\tlesson-{le}\t"
                       f"Lesson {le} of module {m}\t\\N\t{le + 1}\t{created}\t{created}\n")

    def prompts_and_versions(self):
        """Plan every prompt and its versions (kept in memory: small tuples, ~1M at scale 1).
        First the course library (as v1), then the team, course and personal workspaces' prompts."""
        s = self.sizes
        rng = self.rng
        per_module = -(-s.prompts // s.modules)
        admin = self.data.admin["id"]
        plan = []
        next_version = 0
        for i in range(s.prompts):
            module, pos = i % s.modules, i // s.modules + 1
            lesson = module * s.lessons_per_module + min(s.lessons_per_module - 1,
                                                         (pos - 1) * s.lessons_per_module // per_module)
            # 10 versions on average, paired deviations keep the total exact
            if i % 2 == 0:
                dev = rng.randint(-9, 9) if i + 1 < s.prompts else 0
                count = 10 + dev
            else:
                count = 10 - dev
            status, deleted = self._status(0.85)
            if status == "draft":
                published_upto, current = 0, None
            else:
                # 30% have an unpublished draft on top; 10% point at an older version (rollback)
                published_upto = count - 1 if (count > 1 and rng.random() < 0.3) else count
                current = published_upto if (published_upto == 1 or rng.random() >= 0.1) \
                    else rng.randint(1, published_upto - 1)
            plan.append((i, self.ws_default, make_uuid(K_MODULE, module), make_uuid(K_LESSON, lesson), pos, count,
                         status, deleted, published_upto, current, next_version, admin, True))
            next_version += count
        # Workspace prompts: 10% in personal libraries (10 each, every 8th person), the rest over the
        # shared workspaces, sized by a heavy-tailed weight; the big one gets 2%, the target one
        # the mean weight (~80 prompts at scale 1).
        weights = [rng.paretovariate(1.5) for _ in self.ws_shared]
        weights[1], weights[2] = 0.0, 3.0
        cumulative, total = [], 0.0
        for w in weights:
            total += w
            cumulative.append(total)
        positions: dict[str, int] = {}
        published_in: dict[str, int] = {}
        personal = s.workspace_prompts // 10
        person_index = {uid: u for u, uid in enumerate(self.all_users)}
        for j in range(s.workspace_prompts):
            i = s.prompts + j
            module = None
            if j < personal:
                uid = self.person_users[(j // 10 * 8) % s.people][0]
                ws_id, author = self.personal_workspace_id(person_index[uid]), uid
            else:
                if rng.random() < 0.02:
                    ws = self.ws_shared[1]
                else:
                    ws = self.ws_shared[bisect.bisect_left(cumulative, rng.random() * total)]
                ws_id, author = ws["id"], ws["owner"]
                if ws["modules"]:
                    module = ws["modules"][j % 2]
            pos = positions[ws_id] = positions.get(ws_id, 0) + 1
            count = 1 + j % 2
            status, deleted = self._status(0.80)
            if status == "draft":
                published_upto, current = 0, None
            else:
                published_upto = 1 if (count == 2 and rng.random() < 0.3) else count
                current = published_upto
            if status == "published" and not deleted:
                published_in[ws_id] = published_in.get(ws_id, 0) + 1
            plan.append((i, ws_id, module, None, pos, count, status, deleted, published_upto, current,
                         next_version, author, False))
            next_version += count
        self._plan = plan
        self._published_in = published_in

    def _status(self, published: float) -> tuple[str, bool]:
        """A prompt's status (published share given, drafts up to 95%, the rest archived) and
        whether it is soft-deleted (2%)."""
        draw = self.rng.random()
        status = "published" if draw < published else ("draft" if draw < 0.95 else "archived")
        return status, self.rng.random() < 0.02

    def prompts(self):
        target = self.data.target_workspace["id"]
        for (i, ws_id, module, lesson, pos, count, status, deleted, _pub, current, first_v, author,
             course) in self._plan:
            created = NOW - timedelta(days=730 - (i % 300), minutes=i % 1440)
            current_id = make_uuid(K_VERSION, first_v + current - 1) if current else None
            published_at = ts(created + timedelta(days=current, hours=1)) if current else "\\N"
            archived_at = ts(created + timedelta(days=count + 1)) if status == "archived" else "\\N"
            deleted_at = ts(created + timedelta(days=count + 2)) if deleted else "\\N"
            tags = "{" + ",".join(sorted({TAGS[(i + k) % len(TAGS)] for k in range(1 + i % 3)})) + "}"
            updated = ts(created + timedelta(days=count + 2))
            pid = make_uuid(K_PROMPT, i)
            if status == "published" and not deleted:
                if course:
                    self.visible.append((pid, current_id))
                elif ws_id == target and not self.data.workspace_prompt_id and pos > 10:
                    self.data.workspace_prompt_id = pid
            yield (f"{pid}\t{ws_id}\t{module or chr(92) + 'N'}\t{lesson or chr(92) + 'N'}\tprompt-{i}\t"
                   f"Prompt {i}: {ROLES[i % len(ROLES)]} for {AUDIENCES[i % len(AUDIENCES)]}\t"
                   f"A reusable prompt for {ROLES[i % len(ROLES)]}s.\t{tags}\t{pos}\t{status}\t"
                   f"{current_id or chr(92) + 'N'}\t{published_at}\t{archived_at}\t"
                   f"{'t' if deleted else 'f'}\t{deleted_at}\t{author}\t{ts(created)}\t{updated}\n")

    def versions(self):
        rng = self.rng
        paragraphs = [p.replace("{role}", ROLES[k % len(ROLES)]).replace("{audience}", AUDIENCES[k % len(AUDIENCES)])
                      for k, p in enumerate(PARAGRAPHS)]
        n_par = len(paragraphs)
        for (i, _ws, _module, _lesson, _pos, count, _status, _deleted, published_upto, _current, first_v, author,
             course) in self._plan:
            created0 = NOW - timedelta(days=730 - (i % 300), minutes=i % 1440)
            pid = make_uuid(K_PROMPT, i)
            for v in range(1, count + 1):
                created = created0 + timedelta(days=v)
                published = v <= published_upto
                start = rng.randrange(n_par)
                body = f"# Prompt {i}, version {v}\\n\\n" + "\\n\\n".join(
                    paragraphs[(start + k) % n_par] for k in range(2 + (i + v) % 3 if course else 1 + v))
                changelog = "Initial version" if v == 1 else f"Revision {v}: tightened the instructions"
                yield (f"{make_uuid(K_VERSION, first_v + v - 1)}\t{pid}\t{v}\t{body}\t{changelog}\t"
                       f"{'t' if published else 'f'}\t"
                       f"{ts(created + timedelta(hours=1)) if published else chr(92) + 'N'}\t"
                       f"{author}\t{ts(created)}\n")

    def usage_logs(self):
        s = self.sizes
        rng = self.rng
        users = [(self.person_users[p][0], p in self.opted_out) for p in self.active_people]
        n_users, n_prompts = len(users), len(self.visible)
        visible = self.visible
        ws = self.ws_default  # learners' events are on the course library
        span = 360 * 86400
        start = int((NOW - timedelta(days=360)).timestamp())
        step = span / s.usage_logs
        day_cache: dict[int, str] = {}
        rand = rng.random
        for r in range(s.usage_logs):
            moment = start + int(r * step)
            day, sec = divmod(moment, 86400)
            date = day_cache.get(day)
            if date is None:
                date = day_cache[day] = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")
            stamp = f"{date} {sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}+00"
            uid, anonymous = users[int(rand() * n_users)]
            pid, vid = visible[int(rand() ** 2 * n_prompts)]  # popular prompts get most events
            a = rand()
            action = "view" if a < 0.7 else ("copy" if a < 0.9 else ("favorite" if a < 0.97 else "unfavorite"))
            if anonymous:
                uid, meta = "\\N", "\\N"
            else:
                meta = METADATA[int(a * 40) % 4] if a * 10 % 1 < 0.3 else "\\N"
            yield f"{uid}\t{pid}\t{vid}\t{ws}\t{action}\t{meta}\t{stamp}\t{stamp}\n"

    # -- the load ------------------------------------------------------------------------------
    def load(self) -> Dataset:
        s = self.sizes
        self.log(f"loading scale {s.scale} (seed {self.data.seed}): {s.prompts:,} course prompts, "
                 f"{s.versions:,} versions, {s.members:,} members, {s.usage_logs:,} usage-log rows, "
                 f"{s.shared_workspaces:,} team/course workspaces with {s.workspace_prompts:,} more prompts")
        t0 = time.perf_counter()
        with psycopg.connect(self.url, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("set session_replication_role = replica")
            cur.execute("set maintenance_work_mem = '1GB'")
            cur.execute("truncate table " + ", ".join(LOADED_TABLES) + " cascade")
            self._copy(cur, "auth.users", ["id", "aud", "role", "email", "email_confirmed_at", "raw_app_meta_data",
                                           "raw_user_meta_data", "created_at", "updated_at"], self.users())
            self.plan_workspaces()
            self._copy(cur, "public.workspaces",
                       ["id", "slug", "name", "description", "kind", "personal_user_id", "is_default",
                        "require_approval", "created_by", "updated_by", "created_at", "updated_at", "deleted_at"],
                       self.workspaces())
            self._copy(cur, "public.workspace_members",
                       ["workspace_id", "user_id", "role", "created_by", "updated_by", "created_at", "updated_at"],
                       self.workspace_members())
            self._copy(cur, "public.workspace_cohorts", ["workspace_id", "cohort_id", "created_by", "created_at"],
                       self.workspace_cohorts())
            cur.execute("insert into public.prompt_admins (user_id, note) values (%s, 'benchmark admin')",
                        (self.data.admin["id"],))
            self._copy(cur, "public.prompt_user_preferences",
                       ["user_id", "telemetry_opt_out", "created_at", "updated_at"], self.preferences())
            self._copy(cur, "public.course_cohort_members",
                       ["id", "cohort_id", "email", "first_name", "last_name", "circle_member_id", "status",
                        "revoked_at", "source_hash", "last_synced_at", "created_at", "updated_at"], self.members())
            self._copy(cur, "public.prompt_modules",
                       ["id", "workspace_id", "slug", "title", "description", "position", "created_at", "updated_at"],
                       self.modules())
            self._copy(cur, "public.prompt_lessons",
                       ["id", "module_id", "workspace_id", "slug", "title", "description", "position", "created_at",
                        "updated_at"], self.lessons())
            self.prompts_and_versions()
            self._copy(cur, "public.prompts",
                       ["id", "workspace_id", "module_id", "lesson_id", "slug", "title", "description", "tags", "position", "status",
                        "current_version_id", "published_at", "archived_at", "is_deleted", "deleted_at",
                        "created_by", "created_at", "updated_at"], self.prompts())
            self._copy(cur, "public.prompt_versions",
                       ["id", "prompt_id", "version_number", "markdown_body", "changelog", "published",
                        "published_at", "created_by", "created_at"], self.versions())
            rebuild = self._drop_indexes(cur, "public.prompt_usage_logs")
            self._copy(cur, "public.prompt_usage_logs",
                       ["user_id", "prompt_id", "version_id", "workspace_id", "action", "metadata", "occurred_at",
                        "created_at"],
                       self.usage_logs())
            start = time.perf_counter()
            for statement in rebuild:
                cur.execute(statement)
            self.data.timings["rebuild usage-log indexes"] = round(time.perf_counter() - start, 2)
            self.log(f"  rebuilt {len(rebuild)} usage-log indexes in {time.perf_counter() - start:.1f} s")
            cur.execute("update public.prompt_feature_flags set enabled = true")
            conn.commit()
            cur.execute("set session_replication_role = default")
        start = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn:
            # Frozen rows need no vacuum pass; this records statistics and resets the insert
            # counters, so autovacuum does not start on these tables in the middle of a benchmark.
            conn.execute("vacuum (analyze) " + ", ".join(LOADED_TABLES))
        self.data.timings["vacuum analyze"] = round(time.perf_counter() - start, 2)
        self.log(f"  vacuum (analyze) in {time.perf_counter() - start:.1f} s")
        self._pick_actors()
        check_invariants(self.url, self.log, self.data.timings)
        self.data.timings["total"] = round(time.perf_counter() - t0, 2)
        self.log(f"loaded in {self.data.timings['total']:.0f} s")
        return self.data

    def _drop_indexes(self, cur: psycopg.Cursor, table: str) -> list[str]:
        """Drop a table's indexes (the primary key too); return the statements that rebuild them."""
        cur.execute(
            """select c.conname, pg_get_constraintdef(c.oid)
                 from pg_constraint c where c.conrelid = %s::regclass and c.contype in ('p', 'u')""", (table,))
        constraints = cur.fetchall()
        cur.execute(
            """select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                 from pg_index i
                where i.indrelid = %s::regclass
                  and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)""", (table,))
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f"alter table {table} drop constraint {name}")
        for name, _ in indexes:
            cur.execute(f"drop index {name}")
        return ([f"alter table {table} add constraint {name} {definition}" for name, definition in constraints]
                + [definition for _, definition in indexes])

    def _pick_actors(self) -> None:
        s = self.sizes
        opted_in = [p for p in self.active_people if p not in self.opted_out]
        # The benchmark learner's e-mail sorts in the middle of all e-mails: a lookup that is not
        # a true index probe (a scan in e-mail order) costs what it typically costs, not the best case.
        by_email = sorted(opted_in, key=lambda p: self.person_users[p][1])
        middle = by_email[len(by_email) // 2]
        picks = [middle] + [opted_in[(k * 7919) % len(opted_in)] for k in range(1, 64)]
        self.data.learners = [{"id": self.person_users[p][0], "email": self.person_users[p][1]}
                              for p in dict.fromkeys(picks)]
        self.data.learner = self.data.learners[0]
        module0 = make_uuid(K_MODULE, 0)
        self.data.module_id = module0
        self.data.visible_prompt_ids = [pid for pid, _ in self.visible]
        module0_prompts = {make_uuid(K_PROMPT, i) for i in range(0, s.prompts, s.modules)}
        in_module = [pid for pid, _ in self.visible if pid in module0_prompts]
        self.data.module_prompt_id = in_module[len(in_module) // 2]
        for key in ("target_workspace", "big_workspace"):
            self.data.__dict__[key]["published"] = self._published_in.get(self.data.__dict__[key]["id"], 0)
        visible = set(self.data.visible_prompt_ids)
        self.data.hidden_prompt_ids = [make_uuid(K_PROMPT, i) for i in range(0, min(s.prompts, 5000))
                                       if make_uuid(K_PROMPT, i) not in visible]


def check_invariants(url: str, log=print, timings: dict | None = None) -> None:
    """Prove the bulk-loaded data satisfies what the (bypassed) triggers and foreign keys enforce."""
    start = time.perf_counter()
    checks = {
        "current_version_id is a published version of the same prompt": """
            select count(*) from public.prompts p
             where p.current_version_id is not null and not exists (
                   select 1 from public.prompt_versions v
                    where v.id = p.current_version_id and v.prompt_id = p.id and v.published)""",
        "published prompts have a current version": """
            select count(*) from public.prompts where status = 'published' and current_version_id is null""",
        "version numbers are 1..n per prompt": """
            select count(*) from (select prompt_id from public.prompt_versions group by prompt_id
                                   having min(version_number) <> 1 or max(version_number) <> count(*)) s""",
        "usage-log version_id and workspace_id are the prompt's current version and workspace": """
            select count(*) from public.prompt_usage_logs l join public.prompts p on p.id = l.prompt_id
             where l.version_id is distinct from p.current_version_id or l.workspace_id <> p.workspace_id""",
        "every user has exactly one personal workspace": """
            select count(*) from auth.users u
             where (select count(*) from public.workspaces w where w.personal_user_id = u.id) <> 1""",
        "a personal workspace's only member is its user, as owner": """
            select count(*) from public.workspace_members m join public.workspaces w on w.id = m.workspace_id
             where w.kind = 'personal' and (m.user_id <> w.personal_user_id or m.role <> 'owner')""",
        "every live team and course workspace (but the default one) has an owner": """
            select count(*) from public.workspaces w
             where w.kind <> 'personal' and not w.is_default and w.deleted_at is null and not exists (
                   select 1 from public.workspace_members m where m.workspace_id = w.id and m.role = 'owner')""",
        "exactly one default course workspace": """
            select abs(count(*) - 1) from public.workspaces where is_default""",
        "prompts in course workspaces belong to a module": """
            select count(*) from public.prompts p join public.workspaces w on w.id = p.workspace_id
             where w.kind = 'course' and p.module_id is null""",
        "cohorts bind only to non-default course workspaces": """
            select count(*) from public.workspace_cohorts c join public.workspaces w on w.id = c.workspace_id
             where w.kind <> 'course' or w.is_default""",
        "prompt positions are unique per workspace outside the course library (per module there)": """
            select count(*) from (select 1 from public.prompts p join public.workspaces w on w.id = p.workspace_id
                                   where not w.is_default group by p.workspace_id, p.position having count(*) > 1) s""",
        "members' source_hash is what the sync RPC computes": """
            select count(*) from public.course_cohort_members m
             where m.source_hash <> md5(jsonb_build_array(m.email::text, m.first_name, m.last_name,
                                                          m.circle_member_id, m.status)::text)""",
    }
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("set max_parallel_workers_per_gather = 2")
        # every foreign key in the schemas we loaded: an anti-join per constraint (MATCH SIMPLE)
        cur.execute("""
            select c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                   array(select a.attname from unnest(c.conkey) with ordinality k(n, o)
                          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.o),
                   array(select a.attname from unnest(c.confkey) with ordinality k(n, o)
                          join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.o)
              from pg_constraint c
             where c.contype = 'f' and c.connamespace in ('public'::regnamespace, 'auth'::regnamespace)""")
        for name, child, parent, cols, pcols in cur.fetchall():
            not_null = " and ".join(f"c.{col} is not null" for col in cols)
            match = " and ".join(f"p.{pc} = c.{col}" for col, pc in zip(cols, pcols))
            checks[f"foreign key {name}"] = (f"select count(*) from {child} c where {not_null} "
                                             f"and not exists (select 1 from {parent} p where {match})")
        failed = []
        for label, sql in checks.items():
            cur.execute(sql)
            bad = cur.fetchone()[0]
            if bad:
                failed.append(f"{label}: {bad} rows")
    took = time.perf_counter() - start
    if timings is not None:
        timings["check invariants"] = round(took, 2)
    if failed:
        raise RuntimeError("generated data breaks invariants:\n  " + "\n  ".join(failed))
    log(f"  {len(checks)} invariant checks passed ({took:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True,
                        help="superuser URL of a migrated, THROWAWAY database (the load truncates tables)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    Loader(args.db_url, args.scale, args.seed).load()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
