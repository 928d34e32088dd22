"""Reads HL7 v2 messages with an implementation independent of tdm, hl7apy,
and prints, per OBX segment, the fields tdm reads a drug level from, so that
a test can compare them field by field with what tdm read.

Usage: python3 hl7_fields.py FILE
Prints one JSON object per OBX: message control id (MSH-10), patient
(PID-3.1), OBR-7, OBX-1, OBX-2, OBX-3.1, OBX-3.3, OBX-5 (its number: the
second component of an SN), OBX-6.1, OBX-11.
"""

import json
import re
import sys

from hl7apy.parser import parse_message


def first(value):
    return value.split("~")[0]


def component(field, n):
    parts = first(field.value if hasattr(field, "value") else str(field)).split("^")
    return parts[n - 1] if len(parts) >= n else ""


def main(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    messages = [m for m in re.split(r"(?=MSH\|)", text) if m.strip()]
    for raw in messages:
        message = parse_message(raw.replace("\n", "\r").strip("\r"), find_groups=False, validation_level=2)
        control = message.msh.msh_10.value
        pid = [s for s in message.children if s.name == "PID"][0]
        patient = component(pid.pid_3, 1)
        obr_time = ""
        for segment in message.children:
            if segment.name == "OBR":
                obr_time = segment.obr_7.value if segment.obr_7.value else ""
            if segment.name != "OBX":
                continue
            kind = segment.obx_2.value
            value = segment.obx_5.value
            number = component(value, 2) if kind == "SN" else first(value)
            print(json.dumps({
                "control": control,
                "patient": patient,
                "obr_7": obr_time,
                "set_id": segment.obx_1.value,
                "type": kind,
                "code": component(segment.obx_3, 1),
                "system": component(segment.obx_3, 3),
                "value": float(number),
                "unit": component(segment.obx_6, 1),
                "status": segment.obx_11.value,
            }))


if __name__ == "__main__":
    main(sys.argv[1])
