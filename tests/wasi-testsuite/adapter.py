"""wasi-testsuite runtime adapter for wasmfoundry's `wf wasm run`
(commands) and `wf wasm serve` (wasi:http services).

It mirrors the suite's own `adapters/wasmtime.py`: the test runner loads
this file as a module and asks it for the command line of each case. The
`wf` binary is taken from `$WF` (default: `wf` on the PATH).
"""

import os
import shlex
import subprocess
from typing import Dict, List, Optional, Tuple

WF = shlex.split(os.getenv("WF", "wf"), posix=os.name != "nt")


def get_name() -> str:
    return "wasmfoundry"


def get_version() -> str:
    # `wf --version` prints "wf 0.1.0".
    result = subprocess.run(WF[0:1] + ["--version"], encoding="UTF-8",
                            capture_output=True, check=True)
    return result.stdout.splitlines()[0].split(" ")[1]


def get_wasi_versions() -> List[str]:
    return ["wasm32-wasip1", "wasm32-wasip3"]


def get_wasi_worlds() -> List[str]:
    return ["wasi:cli/command", "wasi:http/service"]


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    args, env, root = args_env_root
    if wasi_world == "wasi:http/service":
        # Like `wasmtime serve`: the first line on stderr names the address.
        argv = WF + ["wasm", "serve", "--addr", "127.0.0.1:0"]
    else:
        argv = WF + ["wasm", "run"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    if root:
        argv += ["--dir", f"{root}::/"]  # noqa: E231
    if "sockets" in proposals or "http" in proposals:
        argv += ["--inherit-network"]
    argv += [test_path]
    argv += args
    return argv
