"""`python -m asmr_platform` (or `asmr_serve`): DeepASMR's platform as a local web app.

Find triggers in a catalogue, listen to exactly a segment, list similar segments of other recordings,
add a recording, and (with generator runs) vary, blend and sample new sounds. FastAPI serves one static
page with no build step and nothing fetched from the network, so it works offline (see docs/platform.md
for why not Gradio). It listens on 127.0.0.1 unless --host says otherwise.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import tempfile
from pathlib import Path

from audioprep.cli import int_at_least, positive_float, run_cli
from audioprep.errors import UsageError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
NO_FLAGS = ("With --db alone: find, listen, more like this (a catalogue with embeddings) and add recordings, "
            "labelled by YAMNet's ASMR / speech detector (asmr / speech / unsure per segment, AudioSet tags, "
            "silent windows `silent`) and catalogued under its name, as `asmr_classify catalog` without --model. "
            "--model labels uploads with a trained classifier instead and adds its verdict on generated sounds; "
            "--vae and --cgan add generation.")


def port(value: str) -> int:
    number = int_at_least(1)(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in 1..65535, not {value}")
    return number


def bind(host: str, number: int) -> socket.socket:
    """The listening socket, bound before anything says "serving"; UsageError in one line naming the flag
    at fault (a port taken or reserved, else the address) if it cannot be."""
    sock = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, number, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
        sock.bind(address)
        return sock
    except OSError as err:
        if sock is not None:
            sock.close()
        flag = f"--port {number}" if err.errno in (errno.EADDRINUSE, errno.EACCES) else f"--host {host}"
        raise UsageError(f"{flag}: cannot listen on {host}:{number} ({err.strerror or err})") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from asmr_platform.params import ServeParams

    parser.add_argument("--db", required=True, type=Path, help="a catalogue made by `asmr_classify catalog`")
    parser.add_argument("--model", help="classifier run or model file: labels uploads (default: YAMNet's ASMR / speech "
                                        "detector) and enables its verdict on generated sounds")
    parser.add_argument("--vae", help="AE or VAE run (`asmr_generate train vae`): enables vary and blend")
    parser.add_argument("--cgan", help="cGAN run (`asmr_generate train cgan`): enables sample and blend labels")
    parser.add_argument("--port", type=port, default=7860, help="default 7860")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--uploads", type=Path, help="folder for uploads added to the catalogue "
                                                     "(default: <catalogue name>-uploads beside it)")
    parser.add_argument("--max-upload-mb", type=positive_float, default=ServeParams().upload_max_mb,
                        help=f"largest upload accepted (default {ServeParams().upload_max_mb:g})")


def main(args) -> int:
    import uvicorn

    from asmr_classify import catalog
    from asmr_platform.app import create_app
    from asmr_platform.engines import load_engines
    from asmr_platform.params import ServeParams

    if not args.db.is_file():
        raise UsageError(f"--db {args.db}: no such catalogue (make one with `asmr_classify catalog DIR --db F`)")
    catalog.connect(args.db).close()  # brings the schema up to date (indexes, embeddings table) and sets WAL
    with bind(args.host, args.port) as sock:  # a taken port fails here, before the runs load and "serving"
        engines = load_engines(args.model, args.vae, args.cgan)
        for reason in dict.fromkeys(r for r in engines.missing().values() if r):
            print(f"note: {reason}", file=sys.stderr)
        if args.host not in LOOPBACK:
            print(f"warning: --host {args.host}: anyone who can reach it can listen to the catalogued recordings",
                  file=sys.stderr)
        uploads = args.uploads or args.db.with_name(f"{args.db.stem}-uploads")
        params = ServeParams(upload_max_mb=args.max_upload_mb)
        with tempfile.TemporaryDirectory(prefix="asmr-serve-") as work:
            app = create_app(args.db.resolve(), engines, Path(work), uploads, params)
            print(f"serving {args.db} at http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
            try:
                uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
            except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on: the way to stop
                pass
    return 0


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="asmr_serve", description=__doc__.splitlines()[0], epilog=NO_FLAGS)
    add_arguments(parser)
    return main(parser.parse_args(argv))


def cli(argv: list[str] | None = None) -> int:
    """`python -m asmr_platform` and the `asmr_serve` console script."""
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(cli())
