"""Requests and responses of the simulator, and ARM's error body."""

import uuid
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    base_url: str
    claims: dict = None


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0
    truncate: bool = False
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def arm_error(status, code, message, **headers):
    return Response(status, {"error": {"code": code, "message": message}}, headers)
