"""``python -m papers.fake_arxiv --port 8765 [--data FILE.jsonl.gz] [--fault 503:2]``."""

import argparse
import time

from .server import SAMPLE_MONTH, FakeArxiv, load_entries


def main():
    parser = argparse.ArgumentParser(description="A local fake of the arXiv API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data", default=str(SAMPLE_MONTH), help="JSON lines (plain or .gz) of entries")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:N]",
        help="inject a fault for the next N requests: 503, 429, 400, empty, malformed, delay5 (seconds), "
        "drip3 (a byte every 3 s), huge250 (a 250 MB answer), invalid (broken entries)",
    )
    args = parser.parse_args()
    server = FakeArxiv(load_entries(args.data), host=args.host, port=args.port)
    for spec in args.fault:
        kind, _, times = spec.partition(":")
        times = int(times or 1)
        if kind.isdigit():
            server.add_fault(
                "status", status=int(kind), retry_after="1" if kind == "429" else None, times=times
            )
        elif kind.startswith("delay"):
            server.add_fault("delay", delay=float(kind[5:] or 5), times=times)
        elif kind.startswith("drip"):
            server.add_fault("drip", delay=float(kind[4:] or 3), times=times)
        elif kind.startswith("huge"):
            server.add_fault("huge", size=int(float(kind[4:] or 250) * 1_000_000), times=times)
        elif kind == "invalid":
            server.add_fault("invalid", count=3, times=times)
        else:
            server.add_fault(kind, times=times)
    server.start()
    print(f"fake arXiv serving {len(server.entries)} entries at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
