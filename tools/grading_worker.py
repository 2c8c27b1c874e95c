"""A worker of the grading command: runs one student's answer cells, and calls their functions.

    python tools/grading_worker.py READ_FD WRITE_FD MEMORY_LIMIT_BYTES

Started by ``tools/grade.py`` for each submission, in a fresh process. It runs the
submission's definitions (functions, constants and the imports they need), then answers
requests to call a function
under a checker's :class:`~gradcourse.exercises._forbid.Guard` rules. The checkers themselves
never run here: the grader runs them in its own process and sees only what this process
sends back (see ``grading_wire``), so nothing a student's code does here can change a verdict
except the values its functions return.
"""

import resource
import sys
import types
import warnings

import numpy as np

import grading_wire as wire
from gradcourse.exercises._forbid import Guard


def _error(err):
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def load(namespace, request):
    """Run the submission's definitions one by one; say which failed, and what is callable."""
    errors = []
    for where, source in request["statements"]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(source, f"<{where}>", "exec"), namespace)  # noqa: S102  (that is the worker's job)
        except BaseException as err:  # noqa: BLE001  (an import the grader cannot provide, a bad decorator...)
            errors.append((where, _error(err)))
    functions = {name: True for name, value in namespace.items()
                 if callable(value) and not isinstance(value, types.ModuleType)}
    return {"errors": errors, "functions": functions}


def call(namespace, request):
    """Call the student's function under the checker's rules; send back what happened."""
    args = request["args"]
    result = Guard(request["rules"]).call_here(namespace[request["name"]], args,
                                               record_warnings=request["record_warnings"])
    return {"value": wire.encode(result.value), "error": result.error, "forbidden": result.forbidden,
            "warnings": [str(w) for w in result.warnings], "not_attempted": result.not_attempted,
            "args": [wire.encode(arg) for arg in args]}


def main(read_fd, write_fd):
    namespace = {"__name__": "__main__", "np": np}
    while True:
        request = wire.receive_request(read_fd)
        if request["op"] == "exit":
            return
        reply = load(namespace, request) if request["op"] == "load" else call(namespace, request)
        wire.send_reply(write_fd, reply)


if __name__ == "__main__":
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    main(int(sys.argv[1]), int(sys.argv[2]))
