"""Validates FHIR documents that tdm writes with an implementation
independent of it: the `fhir.resources` models (R4B, the closest to R4 the
package has; Observation, MedicationRequest, OperationOutcome and Bundle
are the same in both), which check every element's name, type, cardinality
and the primitive formats (dateTime, uri, code).

Usage: python3 fhir_validate.py FILE...
Prints one line per file: the resource counts, or the first errors; exits 1
when any file is invalid.
"""

import collections
import json
import sys

from fhir.resources.R4B.bundle import Bundle


def main(paths):
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        try:
            bundle = Bundle.model_validate(document)
        except Exception as error:  # pydantic's ValidationError and kin
            print(f"{path}: invalid: {error}")
            failed = True
            continue
        kinds = collections.Counter(e.resource.get_resource_type() for e in bundle.entry or [])
        print(f"{path}: valid Bundle: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
