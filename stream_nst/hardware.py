"""What the machine offers the network: physical cores, CUDA GPUs, onnxruntime providers."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import onnxruntime as ort

from .errors import UsageError


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyper-threads count once)."""
    if hasattr(os, "sched_getaffinity"):
        cpus = os.sched_getaffinity(0)
    else:
        cpus = range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(
                ((topology / "physical_package_id").read_text(), (topology / "core_id").read_text())
            )
        except OSError:
            cores.add((str(cpu), ""))
    return max(1, len(cores))


def cuda_device_count() -> int:
    """How many CUDA GPUs the driver reports (0 without a driver); asks no onnxruntime."""
    names = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")
    for name in names:
        try:
            cuda = ctypes.CDLL(name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0:
            return count.value
    return 0


def choose_providers(device: str) -> list[str | tuple[str, dict[str, object]]]:
    """Execution providers for a device choice, best first; CPU is always the last resort."""
    available = ort.get_available_providers()
    if device == "cpu" or (device == "auto" and not cuda_device_count()):
        return ["CPUExecutionProvider"]
    if device == "cuda" and not cuda_device_count():
        raise UsageError("CUDA was asked for, but no CUDA GPU was found", setting="device")
    providers: list[str | tuple[str, dict[str, object]]] = []
    if "TensorrtExecutionProvider" in available:
        cache = Path.home() / ".cache" / "stream-nst" / "tensorrt"
        providers.append(
            (
                "TensorrtExecutionProvider",
                {
                    "trt_fp16_enable": True,
                    "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": str(cache),
                },
            )
        )
    if "CUDAExecutionProvider" in available:
        providers.append("CUDAExecutionProvider")
    if not providers and device == "cuda":
        raise UsageError(
            "CUDA was asked for, but this onnxruntime has no CUDA support (onnxruntime-gpu)",
            setting="device",
        )
    return [*providers, "CPUExecutionProvider"]
