"""``ledger push | watch | status | retry`` — the instrument PC's command line.

Connection: ``--url`` / ``LEDGER_URL`` and ``--token`` / ``LEDGER_TOKEN`` (or ``--token-file`` /
``LEDGER_TOKEN_FILE``, better for a service: the token is not on the command line). Journal:
``--journal`` / ``LEDGER_JOURNAL`` (default: the user's local state folder).

Exit status of ``push`` is its worst outcome: 0 every file analysed, 1 an analysis failed,
2 the server refused a file (409/413/415/400 …) or the token, 3 the server could not be reached
or the analysis did not finish in time. ``watch`` runs until stopped (SIGTERM, Ctrl-C); ``status``
exits 1 when some file is failed or parked.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from . import __version__
from . import journal as j
from .agent import Agent, apply_server_status, compact_metrics, sha256_file
from .api import AuthError, Client, Refused, Unavailable
from .rules import RulesError, fixed_rules, load_rules

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], flag: str) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} pixel_area_cm2=0.09")
        out[key.strip()] = _value(value.strip())
    return out


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return args.token
    path = args.token_file or os.environ.get("LEDGER_TOKEN_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise SystemExit(f"cannot read the token file {path}: {exc}")
    return os.environ.get("LEDGER_TOKEN", "")


def _client(args: argparse.Namespace) -> Client:
    url = args.url or os.environ.get("LEDGER_URL", "")
    try:
        return Client(url, _token(args), timeout=args.http_timeout)
    except ValueError as exc:
        raise SystemExit(str(exc))


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _print_metrics(metrics: list[dict[str, Any]], out) -> None:
    for m in metrics:
        value = m["value"]
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"    {m['name']:<28} {shown:>12} {m.get('unit') or '':<8} {m.get('target') or ''}", file=out)


# --- push ----------------------------------------------------------------------------------------

def cmd_push(args: argparse.Namespace) -> int:
    client, journal = _client(args), j.Journal(args.journal)
    params, metadata = _pairs(args.param, "--param"), _pairs(args.meta, "--meta")
    worst = EXIT_OK
    files = [Path(f) for f in args.files]
    for i, path in enumerate(files, 1):
        if not path.is_file():
            print(f"[{i}/{len(files)}] {path}: no such file", file=sys.stderr)
            worst = max(worst, EXIT_REFUSED)
            continue
        st = path.stat()
        sha = sha256_file(path)
        entry = journal.find(str(path.resolve()), sha)
        if entry is None or entry.state in (j.PARKED, j.DUPLICATE, j.IGNORED, j.WAITING) or entry.target != args.target:
            if entry is not None:
                journal.db.execute("DELETE FROM files WHERE id = ?", (entry.id,))
            entry = journal.record(path=str(path.resolve()), sha256=sha, size_bytes=st.st_size, mtime_ns=st.st_mtime_ns,
                                   state=j.PENDING, rule="push", target=args.target, kind=args.kind, params=params,
                                   metadata=metadata, instrument=args.instrument)
        print(f"[{i}/{len(files)}] {path.name} ({_size(st.st_size)}) → {args.target} …", file=sys.stderr, flush=True)
        worst = max(worst, _push_one(client, journal, entry, args))
    return worst


def _push_one(client: Client, journal: j.Journal, entry: j.Entry, args: argparse.Namespace) -> int:
    out = sys.stdout
    if entry.state == j.PENDING:
        deadline, delay = time.monotonic() + args.retry_for, 1.0
        while True:
            try:
                record = client.upload(entry.path, entry.target, kind=entry.kind or None, params=entry.params,
                                       metadata=entry.metadata, instrument=entry.instrument or None,
                                       idempotency_key=entry.idempotency_key)
                break
            except Refused as exc:
                journal.finish(entry.id, state=j.PARKED, reason=f"refused by the server ({exc.status}): {exc.message}")
                print(f"    refused ({exc.status}): {exc.message}", file=out)
                return EXIT_REFUSED
            except AuthError as exc:
                print(f"    {exc}", file=out)
                return EXIT_REFUSED
            except Unavailable as exc:
                journal.retry_later(entry.id, reason=str(exc), delay_s=0)
                if time.monotonic() + delay > deadline:
                    print(f"    not sent: {exc} (kept as pending in the journal; `ledger watch` or a new push sends it)",
                          file=out)
                    return EXIT_UNREACHABLE
                print(f"    {exc}; retrying in {delay:.0f} s", file=sys.stderr)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        journal.mark_uploaded(entry.id, record)
        print(f"    uploaded: file {record['id']} sha256 {record['sha256'][:12]}… ({record.get('kind')}, {record.get('status')})",
              file=sys.stderr)
        entry = journal.get(entry.id)
    if entry.state == j.UPLOADED and not args.no_wait:
        try:
            record = client.wait(entry.server_id, timeout=args.timeout)
        except TimeoutError as exc:
            print(f"    {exc}", file=out)
            return EXIT_UNREACHABLE
        except (Unavailable, AuthError) as exc:
            print(f"    uploaded, but its status is unknown: {exc}", file=out)
            return EXIT_UNREACHABLE
        apply_server_status(journal, entry.id, record, poll_s=2.0)
        entry = journal.get(entry.id)
        if entry.state == j.DONE:
            entry.metrics = compact_metrics(record)
    if entry.state == j.UPLOADED:
        print(f"    file {entry.server_id}: {entry.server_status} (not waiting)", file=out)
        return EXIT_OK
    if entry.state == j.FAILED:
        print(f"    file {entry.server_id}: failed — {entry.reason}", file=out)
        return EXIT_FAILED
    print(f"    file {entry.server_id}: done{' — ' + entry.reason if entry.reason else ''}", file=out)
    _print_metrics(entry.metrics, out)
    return EXIT_OK


# --- watch ---------------------------------------------------------------------------------------

def cmd_watch(args: argparse.Namespace) -> int:
    client, journal = _client(args), j.Journal(args.journal)
    try:
        if args.rule:
            rules = load_rules(Path(args.rule).read_text(encoding="utf-8"), source=args.rule)
        elif args.target:
            rules = fixed_rules(args.target, kind=args.kind, params=_pairs(args.param, "--param"), instrument=args.instrument)
        else:
            text = _server_rules(client)
            rules = load_rules(text, source=f"{client.url} (station rules)")
    except (OSError, RulesError) as exc:
        raise SystemExit(str(exc))
    poll = args.poll if args.poll is not None else None
    agent = Agent(client, journal, args.folder, rules, poll_seconds=poll, settle_seconds=args.settle,
                  max_backoff_s=args.max_backoff, status_poll_s=args.status_poll)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT) + ((signal.SIGBREAK,) if hasattr(signal, "SIGBREAK") else ()):
        signal.signal(sig, lambda *_: stop.set())
    agent.run(stop, until_idle=args.once)
    return EXIT_OK


def _server_rules(client: Client) -> str:
    """The rules stored on the server; waits for the server when it is down at start-up."""
    delay = 1.0
    while True:
        try:
            text = client.station_rules()
        except Unavailable as exc:
            logging.getLogger("ledger").warning("%s; fetching the station rules again in %.0f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 60.0)
            continue
        except (AuthError, Refused) as exc:
            raise SystemExit(str(exc))
        if text is None:
            raise SystemExit("the server has no station rules for this token: give --rule RULES.toml or --target LABEL, "
                             "or ask the lab manager to add them (admin → Station rules)")
        return text


# --- status / retry ------------------------------------------------------------------------------

def _ago(ts: float) -> str:
    s = max(time.time() - ts, 0)
    return f"{s:.0f} s ago" if s < 120 else f"{s / 60:.0f} min ago" if s < 7200 else f"{s / 3600:.0f} h ago"


def cmd_status(args: argparse.Namespace) -> int:
    journal = j.Journal(args.journal)
    counts = journal.counts()
    states = args.state or ([s for s in j.STATES if s != j.IGNORED] if args.all else
                            [j.PENDING, j.WAITING, j.UPLOADED, j.FAILED, j.PARKED])
    rows = list(journal.entries(states, limit=args.limit))
    if args.json:
        print(json.dumps({"counts": counts, "files": [e.__dict__ for e in rows]}, indent=2, default=str))
    else:
        print(f"journal {journal.path}")
        print("  " + "   ".join(f"{s} {counts.get(s, 0)}" for s in j.STATES))
        for e in rows:
            where = f"→ {e.target}" if e.target else ""
            server = f"file {e.server_id}" if e.server_id else ""
            line = f"  #{e.id:<5} {e.state:<9} {e.name} {where} {server} ({_ago(e.updated_at)})"
            if e.state == j.PENDING and e.attempts:
                line += f", {e.attempts} tries, next in {max(e.next_attempt_at - time.time(), 0):.0f} s"
            print(line)
            if e.reason:
                print(f"           {e.reason}")
    return EXIT_FAILED if counts.get(j.FAILED) or counts.get(j.PARKED) else EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    n = j.Journal(args.journal).forget_parked([int(i) for i in args.ids] or None)
    print(f"{n} parked file(s) forgotten: `ledger watch` journals them again with the current rules and sends them")
    return EXIT_OK


# --- parser --------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=None, help="LEDger base URL (LEDGER_URL), e.g. http://ledger.lab:8000")
    common.add_argument("--token", default=None, help="API token (LEDGER_TOKEN); prefer --token-file for services")
    common.add_argument("--token-file", default=None, help="File holding the token (LEDGER_TOKEN_FILE)")
    common.add_argument("--journal", default=None, help=f"Journal file (LEDGER_JOURNAL; default {j.default_path()})")
    common.add_argument("--http-timeout", type=float, default=60.0, help="Seconds per HTTP request")
    common.add_argument("-v", "--verbose", action="store_true")

    parser = argparse.ArgumentParser(prog="ledger", description="LEDger upload agent and client")
    parser.add_argument("--version", action="version", version=f"ledger-client {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    push = sub.add_parser("push", parents=[common], help="Upload files and print their metrics")
    push.add_argument("files", nargs="+", metavar="FILE")
    push.add_argument("--target", required=True, help="Sample or pixel label, e.g. DEV-0001-A")
    push.add_argument("--kind", default=None, help="jlv, el, pl, trpl, xrd … (sniffed when left out)")
    push.add_argument("--param", action="append", default=[], metavar="K=V", help="Analysis parameter (repeatable)")
    push.add_argument("--meta", action="append", default=[], metavar="K=V", help="Metadata stored with the file")
    push.add_argument("--instrument", default=None, help="Instrument name (as in LEDger)")
    push.add_argument("--no-wait", action="store_true", help="Do not wait for the analysis")
    push.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait for the analysis")
    push.add_argument("--retry-for", type=float, default=60.0, help="Seconds to keep retrying an unreachable server")
    push.set_defaults(func=cmd_push)

    watch = sub.add_parser("watch", parents=[common], help="Watch a folder and upload each complete file once")
    watch.add_argument("folder", metavar="DIR")
    watch.add_argument("--rule", default=None, metavar="RULES.toml", help="Rules file (default: the server's station rules)")
    watch.add_argument("--target", default=None, help="Send every file to this one target (a dedicated rig)")
    watch.add_argument("--kind", default=None, help="With --target: the kind of every file")
    watch.add_argument("--param", action="append", default=[], metavar="K=V", help="With --target: analysis parameter")
    watch.add_argument("--instrument", default=None, help="With --target: instrument name")
    watch.add_argument("--poll", type=float, nargs="?", const=2.0, default=None, metavar="S",
                       help="Poll the folder every S seconds (network shares) instead of change events")
    watch.add_argument("--settle", type=float, default=None, metavar="S",
                       help="A file is complete after S seconds unchanged (default: the rules' settle_seconds, 5)")
    watch.add_argument("--max-backoff", type=float, default=300.0, metavar="S", help="Longest wait between retries")
    watch.add_argument("--status-poll", type=float, default=2.0, metavar="S", help="How often to ask for analysis results")
    watch.add_argument("--once", action="store_true", help="Exit when everything found is sent and analysed")
    watch.set_defaults(func=cmd_watch)

    status = sub.add_parser("status", parents=[common], help="What is pending, failed, parked (and done with --all)")
    status.add_argument("--all", action="store_true", help="Also list done and duplicate files")
    status.add_argument("--state", action="append", choices=j.STATES, help="Only these states (repeatable)")
    status.add_argument("--limit", type=int, default=200)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    retry = sub.add_parser("retry", parents=[common], help="Send parked files again (after fixing the rule or target)")
    retry.add_argument("ids", nargs="*", metavar="ID", help="Journal ids (default: every parked file)")
    retry.set_defaults(func=cmd_retry)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
