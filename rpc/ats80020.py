"""ATS 80020 XML ("макет 80020"): one day of half-hourly metering data for a sender, an area and its metering
points, four channels per point: 01 active import (A+), 02 active export (A-), 03 reactive import (R+),
04 reactive export (R-). Each `<period start="HHMM" end="HHMM">` holds the energy of one half hour in Wh of the
market's local time, with a status: 0 measured, 1 no data. The ledger meters active energy only, so channels 03
and 04 are exported with status 1.

The file name is `80020_<sender INN>_<YYYYMMDD>_<number>.xml`. Parsing validates everything and reports every
problem with the path of its element; a file with any problem is refused whole."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

CHANNELS = {"01": "active import (A+)", "02": "active export (A-)", "03": "reactive import (R+)",
            "04": "reactive export (R-)"}
MEASURED, NO_DATA = "0", "1"
STATUSES = (MEASURED, NO_DATA)
HALF_HOURS = 48
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class Ats80020Error(ValueError):
    """A file that is not valid 80020; `problems` lists each error with its element path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class Interval:
    value_wh: int
    status: str


@dataclass(frozen=True)
class PointDay:
    code: str
    name: str
    channels: dict[str, tuple[Interval, ...]]
    """Channel code -> 48 half hours from local 00:00."""


@dataclass(frozen=True)
class Message:
    number: int
    day: datetime.date
    created: datetime.datetime
    sender_inn: str
    sender_name: str
    area_inn: str
    area_name: str
    points: tuple[PointDay, ...]


def file_name(sender_inn: str, day: datetime.date, number: int) -> str:
    return f"80020_{sender_inn}_{day:%Y%m%d}_{number}.xml"


def _hhmm(half_hour: int) -> str:
    minutes = half_hour * 30
    return f"{minutes // 60 % 24:02d}{minutes % 60:02d}"


def render(message: Message) -> bytes:
    root = ET.Element("message", {"class": "80020", "version": "2", "number": str(message.number)})
    stamp = ET.SubElement(root, "datetime")
    ET.SubElement(stamp, "timestamp").text = message.created.strftime("%Y%m%d%H%M%S")
    ET.SubElement(stamp, "daylightsavingtime").text = "0"
    ET.SubElement(stamp, "day").text = message.day.strftime("%Y%m%d")
    sender = ET.SubElement(root, "sender")
    ET.SubElement(sender, "inn").text = message.sender_inn
    ET.SubElement(sender, "name").text = message.sender_name
    area = ET.SubElement(root, "area", {"timezone": "1"})
    ET.SubElement(area, "inn").text = message.area_inn
    ET.SubElement(area, "name").text = message.area_name
    for point in message.points:
        element = ET.SubElement(area, "measuringpoint", {"code": point.code, "name": point.name})
        for code, description in CHANNELS.items():
            channel = ET.SubElement(element, "measuringchannel", {"code": code, "desc": description})
            for index, interval in enumerate(point.channels[code]):
                period = ET.SubElement(channel, "period", {"start": _hhmm(index), "end": _hhmm(index + 1)})
                ET.SubElement(period, "value", {"status": interval.status}).text = str(interval.value_wh)
    ET.indent(root)
    return ET.tostring(root, encoding="windows-1251", xml_declaration=True)


def parse(data: bytes) -> Message:
    """A validated message; Ats80020Error lists every problem found."""
    if len(data) > MAX_FILE_BYTES:
        raise Ats80020Error([Problem("/", f"file larger than {MAX_FILE_BYTES} bytes")])
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Ats80020Error([Problem("/", "DOCTYPE and entity declarations are not allowed")])
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Ats80020Error([Problem("/", f"not well-formed XML: {exc}")]) from None
    problems: list[Problem] = []
    if root.tag != "message" or root.get("class") != "80020":
        problems.append(Problem("/message", "root must be <message class=\"80020\">"))
    number = _int_attr(root, "number", "/message", problems)
    day = _date(_text(root, "datetime/day", "/message", problems), "/message/datetime/day", "%Y%m%d", problems)
    created = _date(_text(root, "datetime/timestamp", "/message", problems), "/message/datetime/timestamp",
                    "%Y%m%d%H%M%S", problems)
    sender_inn = _inn(_text(root, "sender/inn", "/message", problems), "/message/sender/inn", problems)
    areas = root.findall("area")
    if len(areas) != 1:
        problems.append(Problem("/message", f"expected one <area>, found {len(areas)}"))
        raise Ats80020Error(problems)
    area = areas[0]
    area_inn = _inn(_text(area, "inn", "/message/area[1]", problems), "/message/area[1]/inn", problems)
    points = []
    seen: set[str] = set()
    for p_index, point in enumerate(area.findall("measuringpoint"), 1):
        path = f"/message/area[1]/measuringpoint[{p_index}]"
        code = point.get("code", "")
        if not re.fullmatch(r"\d{1,20}", code):
            problems.append(Problem(path + "/@code", f"expected digits, got {code!r}"))
        elif code in seen:
            problems.append(Problem(path + "/@code", f"metering point {code} appears twice"))
        seen.add(code)
        points.append(PointDay(code, point.get("name", ""), _channels(point, path, problems)))
    if not points:
        problems.append(Problem("/message/area[1]", "no <measuringpoint>"))
    if problems:
        raise Ats80020Error(problems)
    return Message(number, day, created, sender_inn, _text(root, "sender/name", "/message", []) or "", area_inn,
                   _text(area, "name", "/message/area[1]", []) or "", tuple(points))


def _channels(point: ET.Element, path: str, problems: list[Problem]) -> dict[str, tuple[Interval, ...]]:
    channels: dict[str, tuple[Interval, ...]] = {}
    for c_index, channel in enumerate(point.findall("measuringchannel"), 1):
        c_path = f"{path}/measuringchannel[{c_index}]"
        code = channel.get("code", "")
        if code not in CHANNELS:
            problems.append(Problem(c_path + "/@code", f"unknown channel {code!r}; channels: 01, 02, 03, 04"))
            continue
        if code in channels:
            problems.append(Problem(c_path + "/@code", f"channel {code} appears twice"))
            continue
        periods = channel.findall("period")
        if len(periods) != HALF_HOURS:
            problems.append(Problem(c_path, f"expected {HALF_HOURS} periods, found {len(periods)}"))
            continue
        intervals = []
        for index, period in enumerate(periods):
            p_path = f"{c_path}/period[{index + 1}]"
            if period.get("start") != _hhmm(index) or period.get("end") != _hhmm(index + 1):
                problems.append(Problem(p_path, f"expected start {_hhmm(index)} end {_hhmm(index + 1)}"))
            value = period.find("value")
            if value is None:
                problems.append(Problem(p_path, "no <value>"))
                continue
            status = value.get("status", MEASURED)
            if status not in STATUSES:
                problems.append(Problem(p_path + "/value/@status", f"unknown status {status!r}; statuses: 0, 1"))
            text = (value.text or "").strip()
            if not re.fullmatch(r"\d{1,15}", text):
                problems.append(Problem(p_path + "/value", f"expected a whole number of Wh, got {text!r}"))
                continue
            intervals.append(Interval(int(text), status))
        if len(intervals) == HALF_HOURS:
            channels[code] = tuple(intervals)
    if "01" not in channels and not any(p.path.startswith(path) for p in problems):
        problems.append(Problem(path, "channel 01 (active import) is required"))
    return channels


def _text(element: ET.Element, child: str, path: str, problems: list[Problem]) -> str | None:
    found = element.find(child)
    if found is None or not (found.text or "").strip():
        problems.append(Problem(f"{path}/{child}", "missing"))
        return None
    return found.text.strip()


def _int_attr(element: ET.Element, name: str, path: str, problems: list[Problem]) -> int:
    value = element.get(name, "")
    if not re.fullmatch(r"\d{1,9}", value):
        problems.append(Problem(f"{path}/@{name}", f"expected a number, got {value!r}"))
        return 0
    return int(value)


def _inn(value: str | None, path: str, problems: list[Problem]) -> str:
    if value is not None and not re.fullmatch(r"\d{10}|\d{12}", value):
        problems.append(Problem(path, f"an INN has 10 or 12 digits, got {value!r}"))
    return value or ""


def _date(value: str | None, path: str, fmt: str, problems: list[Problem]):
    if value is None:
        return None
    try:
        parsed = datetime.datetime.strptime(value, fmt)
    except ValueError:
        problems.append(Problem(path, f"expected {fmt.replace('%', '')}, got {value!r}"))
        return None
    return parsed.date() if fmt == "%Y%m%d" else parsed
