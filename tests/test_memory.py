"""mlcourse.memory.peak_memory against allocations of known size."""

from __future__ import annotations

import pytest
import torch

from mlcourse.memory import heap_bytes, heap_growth, peak_memory

MB = 2**20
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_one_tensor_is_counted_once(device):
    peak = peak_memory(lambda: torch.empty(MB, dtype=torch.uint8, device=device), device)
    assert MB <= peak < MB + 4096


@pytest.mark.parametrize("device", DEVICES)
def test_freed_memory_does_not_add_up_but_live_memory_does(device):
    def one_after_the_other():
        for _ in range(4):
            torch.empty(MB, dtype=torch.uint8, device=device)  # freed at once

    def all_alive():
        return [torch.empty(MB, dtype=torch.uint8, device=device) for _ in range(4)]

    assert peak_memory(one_after_the_other, device) < 2 * MB
    assert peak_memory(all_alive, device) >= 4 * MB


def test_memory_that_was_live_before_is_not_counted():
    before = torch.empty(8 * MB, dtype=torch.uint8)
    assert peak_memory(lambda: before.add_(1)) < MB


def test_heap_growth_counts_live_allocations_and_autograd_graphs():
    assert MB <= heap_growth(lambda: torch.empty(MB, dtype=torch.uint8)) < MB + 64 * 1024
    assert heap_growth(lambda: torch.empty(MB, dtype=torch.uint8).sum()) < 64 * 1024  # freed inside
    _, how = heap_bytes()
    if how != "malloc":
        pytest.skip("exact heap statistics need glibc; RSS readings are too coarse for this test")

    def graph(steps):
        x = torch.ones(10, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(steps):
            y = 0.9 * y + 0.1 * x
        return y.sum()  # alive: its autograd graph holds one node per operation
    heap_growth(lambda: graph(100))  # warm-up
    sizes = [heap_growth(lambda: graph(n)) for n in (500, 1000, 2000)]
    per_step = (sizes[2] - sizes[0]) / 1500
    assert abs((sizes[1] - sizes[0]) / 500 - per_step) < 0.1 * per_step  # linear in the number of steps
    assert per_step > 3 * 10 * 8  # far more than the 80 bytes of tensor data per step
