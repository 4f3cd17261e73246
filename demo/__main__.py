"""python -m demo: start the ConvScope app.

    python -m demo [--host 127.0.0.1] [--port 7860] [--weights weights/cnn.safetensors] [--data-dir DIR] [--share]
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from .checkpoint import WeightsError
from .classifier import DEFAULT_WEIGHTS


def internet_reachable(host: str = "api.gradio.app", port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a share link can possibly be made; a dead network would otherwise block launch() for ~30 s."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as error:
            return error.errno not in (errno.EADDRINUSE, errno.EACCES)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 serves a classroom LAN (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"weights file (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--data-dir", help="MNIST folder; adds real MNIST test digits as clickable examples "
                                           "(default: none)")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link (default: off)")
    args = parser.parse_args(argv)

    from .classifier import load_classifier  # heavy imports after argument parsing, so --help is instant
    from .ui import LAUNCH_OPTIONS, build_app, load_mnist_samples

    try:
        clf = load_classifier(args.weights)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not port_free(args.host, args.port):
        print(f"error: port {args.port} on {args.host} is already in use (is ConvScope already running?). "
              f"Stop the other server or pick another port with --port.", file=sys.stderr)
        return 2
    share = args.share
    if share and not internet_reachable():
        print("warning: no internet connection, so no public share link can be made; serving locally only.",
              file=sys.stderr)
        share = False
    import torch

    torch.set_num_threads(1)  # one small forward pass per request: threads would only fight between users
    demo = build_app(clf, load_mnist_samples(args.data_dir))
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=args.host, server_port=args.port, share=share, show_error=False, **LAUNCH_OPTIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
