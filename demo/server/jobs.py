"""The work a request causes, as run in a worker process (demo/server/work.py): every CPU-heavy step of a request
(parsing a large JSON body, the drawing's strokes, decoding an image, the network, gzip) happens here, so the web
server's event loop only moves bytes.

Each job is a module-level function ``job(classifier, ...)`` (so it can be sent to a worker) that takes the request's
raw bytes and returns what the route answers. Nothing here imports a web framework.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from demo.core.classifier import Classifier
from demo.core.room_network import RoomNetworkError, load_room_classifier
from demo.core.strokes import InvalidDrawingError
from demo.server.room_strokes import simplify_drawing
from demo.texts import plain
from demo.views.live import (
    LIVE_VIEWS,
    UnusableFileError,
    ViewUpdate,
    encode_input,
    guarded_views,
    predict_file,
    read_drawing,
    views_for_drawing,
    views_for_file,
)

log = logging.getLogger("convscope")

GZIP_ABOVE = 1024  # bytes; smaller answers are sent as they are
ROOM_NETWORKS_KEPT = 4  # class rooms' networks each worker keeps loaded (about 1.7 MB each)
_room_networks: OrderedDict[tuple[str, int], Classifier] = OrderedDict()
_room_networks_lock = threading.Lock()  # workers=0: the jobs run in threads


@dataclass(frozen=True)
class RoomAsked:
    """A live update that names a class room (``"room"``): the route finds that room's network and sends the update
    again with it (the worker does not know the rooms)."""

    code: str


def room_classifier(clf: Classifier, path: str) -> Classifier:
    """The class room's network at ``path`` (a path the server found, never one a client named), loaded once per
    version of the file; ``clf`` for no path ("": the room has none) and when it cannot be used (gone: undone, the
    room closed)."""
    if not path:
        return clf
    try:
        stat = os.stat(path)
    except OSError:
        return clf
    key = (path, stat.st_mtime_ns)
    with _room_networks_lock:
        if key in _room_networks:
            _room_networks.move_to_end(key)
            return _room_networks[key]
    try:
        network = load_room_classifier(path, clf)
    except RoomNetworkError as error:
        log.warning("%s", error)
        return clf
    with _room_networks_lock:
        _room_networks[key] = network
        while len(_room_networks) > ROOM_NETWORKS_KEPT:
            _room_networks.popitem(last=False)
    return network


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; {} for anything else (the caller says what is missing)."""
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return message if isinstance(message, dict) else {}


def encoded(body: dict[str, Any], compress: bool) -> bytes:
    """``body`` as compact JSON, gzipped when ``compress`` and it is worth it."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return gzip.compress(data, compresslevel=6) if compress and len(data) > GZIP_ABOVE else data


def live_update(clf: Classifier, raw: bytes, compress: bool, network: str | None = None) -> bytes | RoomAsked:
    """``POST /convscope/live``: the pad's stroke JSON plus ``"views"`` (the views the page can see; omitted: all),
    ``"input": true`` (the 28×28 model input back, for the lessons) and ``"room"`` (a class room's code: read with
    that room's network) -> the answer's body, ``{"html": {view: html}, "kept": bool, "input": str?, "network":
    "room"|"shipped" (when a room was named)}``, gzipped when ``compress``.

    ``network``: the room's network file as the server found it ("" for none: the shipped network reads); None
    while the server has not looked, and then an update naming a room is answered :class:`RoomAsked`."""
    message = json_object(raw)
    room = message.get("room")
    if network is None and isinstance(room, str) and room:
        return RoomAsked(room[:64])
    reader = room_classifier(clf, network or "")
    views = message.get("views")
    wanted = [v for v in views if v in LIVE_VIEWS] if isinstance(views, list) else None
    # The pad's parser reads the text itself, so a malformed drawing gets the notice saying what is wrong.
    update = guarded_views(views_for_drawing, reader, raw.decode("utf-8", "replace"), wanted)
    body: dict[str, Any] = {"html": update.html, "kept": update.kept}
    if network is not None:
        body["network"] = "shipped" if reader is clf else "room"
    if message.get("input") is True and not update.kept:
        body["input"] = encode_input(update.model_input)
    return encoded(body, compress)


def predict_image(clf: Classifier, data: bytes) -> dict[str, Any]:
    """``POST /convscope/predict`` and the named ``/predict``: an image file's bytes -> the same JSON as
    :func:`demo.views.live.predict_file`, or ``{"error": why}`` for a file that cannot be used."""
    try:
        return predict_file(clf, data)
    except UnusableFileError as error:
        return {"error": str(error)}


def page_file(clf: Classifier, data: bytes | None) -> ViewUpdate:
    """The page's upload box: an image file's bytes -> every view (a file that cannot be used leaves them)."""
    return guarded_views(views_for_file, clf, data)


def class_room_send(clf: Classifier, raw: bytes, network: str = "") -> dict[str, Any]:
    """``POST /convscope/room/send``'s body -> what the room stores: ``{"label", "confidence", "digit_like",
    "drawing", "meant", "nickname"}`` with the network's reading (the room's own network at ``network`` once it has
    learned the class's symbols: a label from 10 is one of them), or ``{"error": why}`` when there is nothing to
    store. ``meant`` and ``nickname`` are passed on as sent (the room cleans them)."""
    message = json_object(raw)
    if not message:
        return {"error": plain("server.jobs.send_unreadable")}
    drawing = message.get("drawing")
    text = drawing if isinstance(drawing, str) else json.dumps(drawing) if isinstance(drawing, dict) else ""
    try:
        reader = room_classifier(clf, network)
        reading = read_drawing(reader, text)
    except InvalidDrawingError as error:
        return {"error": plain("server.jobs.drawing_unusable", problem=error)}
    if reading["label"] is None:
        return {"error": plain("server.jobs.nothing_to_send", why=reading["message"])}
    # Simplified here, in the worker: a drawing of thousands of points takes a while, and the room's own
    # simplification (demo/server/room.py: Room.add) then has little left to do in the web server's process.
    drawing = simplify_drawing(reading["drawing"])
    return {**reading, "drawing": drawing, "meant": message.get("meant"), "nickname": message.get("nickname"),
            "name": reader.names[reading["label"]], "network": "shipped" if reader is clf else "room"}
