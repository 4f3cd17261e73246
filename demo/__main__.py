"""python -m demo: start the ConvScope app.

    python -m demo [--host 127.0.0.1] [--port 7860] [--weights weights/cnn.safetensors] [--data-dir DIR] [--share]
                   [--classroom] [--mlp-weights weights/mlp.safetensors]
"""

from __future__ import annotations

import argparse
import ctypes
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


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Caps glibc's malloc arenas. Gradio runs handlers on many worker threads and glibc gives busy threads arenas
    of their own (up to 8 per core), each keeping freed memory: the server's memory then creeps up under a
    classroom's load (bench/load.py). Elsewhere (not glibc) this does nothing."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):
        pass


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
                        help="address to listen on; 0.0.0.0 serves a classroom LAN "
                             "(default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"weights file (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--data-dir", help="MNIST folder; adds real MNIST test digits as clickable examples "
                                           "(default: none)")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link (default: off)")
    parser.add_argument("--classroom", action="store_true",
                        help="projector mode: large type, high contrast, the network revealed layer by layer, "
                             "freeze and dark/light buttons (default: off)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that compute the live pad's updates, each with its own copy of the model; "
                             "0 computes them in this process (default: one per CPU core)")
    parser.add_argument("--mlp-weights", help="the plain fully connected net for the CNN-vs-MLP lesson "
                                              "(default: weights/mlp.safetensors)")
    args = parser.parse_args(argv)
    limit_malloc_arenas()  # before any worker thread exists

    from .classifier import load_classifier  # heavy imports after argument parsing, so --help is instant
    from .live_server import LiveService, default_workers
    from .ui import build_app, launch, load_lesson_extras, load_mnist_samples

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
    mlp, robustness = load_lesson_extras(args.mlp_weights)
    workers = LiveService(args.weights, default_workers() if args.workers is None else max(0, args.workers), clf)
    demo = build_app(clf, load_mnist_samples(args.data_dir), mlp=mlp, robustness=robustness, workers=workers,
                     classroom=args.classroom)  # its queue settings are in demo/ui.py
    launch(demo, workers, server_name=args.host, server_port=args.port, share=share, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
