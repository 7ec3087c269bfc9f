"""Nearest neighbours among codes: one query's (`nearest`), many queries' (`nearest_neighbours`, exact,
through a grid for 2-D codes), their k-NN vote (`knn_accuracy`), and the holes between codes.

Every search compares distances computed directly (never through a matrix product), so every
caller gets the same answer for the same codes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

KNN_QUERY_CHUNK = 64  # queries compared with every reference at once (their distances stay in the cache)
GRID_DIM = 2  # 2-D codes go through the grid (see _Grid); others: brute force (the grid rarely settles 3-D)
GRID_MIN_REFERENCE = 2000  # fewer reference points: brute force is as fast
GRID_POINTS_PER_SLAB_FACTOR = 16  # slabs = sqrt(reference / this): 61 slabs of 984 points for 60,000
GRID_WINDOW = 32  # candidates each side of a query (along the second coordinate) in each of its 3 slabs
GRID_BOX_LIMIT = 8192  # most points in a query's box for the grid's second look (more: brute force)
GRID_BOX_CHUNK = 128  # queries per box batch
GRID_QUERY_CHUNK = 1024  # queries per grid batch


class Neighbours(NamedTuple):
    indices: Tensor  # int64 (k,): rows of `codes`, nearest first
    distances: Tensor  # float32 (k,): Euclidean distances, ascending


def nearest(codes: Tensor, point: Tensor, k: int) -> Neighbours:
    """The k codes (N, D) nearest to point (D,) in Euclidean distance; k is clipped to N.

    Ties are broken by index (a stable sort), so the answer is deterministic.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if codes.ndim != 2 or point.shape != codes.shape[1:]:
        raise ValueError(f"codes (N, D) and point (D,) do not match: {tuple(codes.shape)} and {tuple(point.shape)}")
    distances = torch.linalg.vector_norm(codes.float() - point.to(codes.device, torch.float32), dim=1)
    k = min(k, len(distances))
    if k == 0:
        return Neighbours(torch.zeros(0, dtype=torch.int64), distances)
    # Sort only the codes as near as the k-th (a quarter of the time of sorting all 10,000);
    # they are in index order, so a stable sort still breaks ties by index.
    candidates = torch.nonzero(distances <= torch.kthvalue(distances, k).values).squeeze(1)
    order = candidates[torch.sort(distances[candidates], stable=True).indices[:k]]
    return Neighbours(order, distances[order])


def nearest_distances(reference: Tensor, queries: Tensor, own_rows: Tensor | None = None) -> Tensor:
    """For each query (M, D), the Euclidean distance to its nearest reference code (N, D), shape (M,).

    `own_rows` (M,) says which reference row each query is, to skip it (its distance is 0).
    """
    if len(queries) == 0:
        return queries.new_zeros(0)
    return _brute_force(reference.float(), queries.float(), 1, own_rows)[0][:, 0]


def share_in_holes(codes: Tensor, samples: Tensor, quantile: float = 0.95, probe: int = 2000, seed: int = 0) -> float:
    """The share of `samples` that land in a hole of the code space: farther from every code than
    `quantile` of the codes are from their own nearest neighbour (judged on `probe` of them)."""
    chosen = torch.randperm(len(codes), generator=torch.Generator().manual_seed(seed))[:probe]
    spacing = nearest_distances(codes, codes[chosen], own_rows=chosen)
    return float((nearest_distances(codes, samples) > torch.quantile(spacing, quantile)).float().mean())


def nearest_neighbours(reference: Tensor, query: Tensor, k: int) -> Tensor:
    """Indices (Q, k) of the k nearest reference points (Euclidean) of each query, nearest first.

    Exact. 2-D codes go through a grid first (see `_Grid`), which settles almost every query from a
    few hundred candidates; the rest, and codes of other sizes, are compared with every reference.
    """
    reference, query = reference.float(), query.float()
    k = min(k, len(reference))
    result = torch.empty(len(query), k, dtype=torch.int64, device=query.device)
    todo = torch.arange(len(query), device=query.device)
    if query.shape[1] == GRID_DIM and len(reference) >= GRID_MIN_REFERENCE:
        grid = _Grid(reference)
        radius = grid.neighbours(query, k, result)
        todo = todo[radius > 0]  # the unsettled ones: look again inside the box their radius bounds
        if len(todo):
            found = torch.empty(len(todo), k, dtype=torch.int64, device=query.device)
            settled = grid.box_neighbours(query[todo], radius[todo], k, found)
            result[todo[settled]] = found[settled]
            todo = todo[~settled]
    if len(todo):
        result[todo] = _brute_force(reference, query[todo], k)[1]
    return result


class _Grid:
    """Reference points in slabs of equal count along the first coordinate, each slab sorted
    along the second: the index behind `nearest_neighbours` for 2-D codes."""

    def __init__(self, reference: Tensor) -> None:
        count, dim = reference.shape
        self.slabs = max(3, round(math.sqrt(count / GRID_POINTS_PER_SLAB_FACTOR)))
        self.per = math.ceil(count / self.slabs)
        by_x = reference[:, 0].argsort()
        padding = self.slabs * self.per - count  # the last slab is filled up with points at infinity
        points = torch.cat([reference[by_x], reference.new_full((padding, dim), math.inf)])
        points = points.view(self.slabs, self.per, dim)
        index = torch.cat([by_x, by_x.new_zeros(padding)]).view(self.slabs, self.per)
        self.first_x, self.last_x = points[:, 0, 0].contiguous(), points[:, -1, 0].contiguous()
        by_y = points[:, :, 1].argsort(dim=1)
        self.points = points.gather(1, by_y.unsqueeze(-1).expand(-1, -1, dim))
        self.index = index.gather(1, by_y)
        self.ys = self.points[:, :, 1].contiguous()
        # One sorted sequence for searches within any slab: slab j's ys, shifted by j * gap (float64).
        finite = self.ys[torch.isfinite(self.ys)].double()
        self.bottom = float(finite.min()) if len(finite) else 0.0
        self.gap = (float(finite.max()) - self.bottom if len(finite) else 0.0) + 1.0
        shift = torch.arange(self.slabs, device=reference.device, dtype=torch.float64)[:, None] * self.gap
        self.keys = (self.ys.double() - self.bottom + shift).flatten()

    def neighbours(self, query: Tensor, k: int, result: Tensor) -> Tensor:
        """k nearest neighbours among a few candidates per query, into `result`.

        A query's candidates are a window of 2 * GRID_WINDOW points around it (along the second
        coordinate) in each of the 3 slabs around its own. The answer is exact where every point
        outside the candidates is provably farther than the k-th candidate: the slabs left out lie
        beyond that distance along the first coordinate, and each window reaches beyond it along
        the second (either coordinate alone bounds the distance). Returns 0 for those queries, and
        for the others the distance of their k-th candidate: an upper bound of the k-th distance.
        """
        span, width = min(3, self.slabs), min(2 * GRID_WINDOW, self.per)
        slab = (torch.searchsorted(self.first_x, query[:, 0].contiguous(), right=True) - 1).clamp(0, self.slabs - 1)
        base = (slab - 1).clamp(0, self.slabs - span)
        bound = torch.zeros(len(query), device=query.device)
        offsets, steps = torch.arange(width, device=query.device), torch.arange(span, device=query.device)
        for first in range(0, len(query), GRID_QUERY_CHUNK):
            rows = slice(first, first + GRID_QUERY_CHUNK)
            q, chosen = query[rows], base[rows, None] + steps  # (B, span) slabs
            y = q[:, 1, None]
            rank = torch.searchsorted(self.ys[chosen], y.unsqueeze(-1).expand(-1, span, 1).contiguous()).squeeze(-1)
            start = (rank - width // 2).clamp(0, self.per - width)  # (B, span)
            positions = start.unsqueeze(-1) + offsets  # (B, span, width)
            candidates = self.points[chosen.unsqueeze(-1), positions].flatten(1, 2)
            nearest = (candidates - q[:, None, :]).square().sum(-1).topk(k, dim=1, largest=False)
            radius = nearest.values[:, -1].sqrt()
            x, lo, hi, reach = q[:, 0], chosen[:, 0], chosen[:, -1], radius[:, None]
            x_clear = ((lo == 0) | (x - self.first_x[lo] > radius)) & (
                (hi == self.slabs - 1) | (self.last_x[hi] - x > radius)
            )
            bottom, top = self.ys[chosen, start], self.ys[chosen, start + width - 1]
            y_clear = ((start == 0) | (y - bottom > reach)) & ((start + width == self.per) | (top - y > reach))
            settled = x_clear & y_clear.all(1) & torch.isfinite(radius)
            bound[rows] = torch.where(settled, 0.0, radius)
            result[rows] = self.index[chosen.unsqueeze(-1), positions].flatten(1, 2).gather(1, nearest.indices)
        return bound

    def box_neighbours(self, query: Tensor, radius: Tensor, k: int, result: Tensor) -> Tensor:
        """k nearest neighbours among every point in the square of half-side `radius` around each
        query: exact wherever `radius` bounds the k-th distance from above (the square holds the
        disc). Fills `result`; returns which rows it answered (not those whose square holds more
        than GRID_BOX_LIMIT points, or whose radius is infinite: brute force is the better way)."""
        x, y = query[:, 0].contiguous(), query[:, 1].contiguous()
        low = torch.searchsorted(self.last_x, (x - radius).contiguous())  # first slab reaching x - radius
        high = (torch.searchsorted(self.first_x, (x + radius).contiguous(), right=True) - 1).clamp(min=0)
        count = (high - low + 1).clamp(min=1)
        done = torch.zeros(len(query), dtype=torch.bool, device=query.device)
        usable = torch.isfinite(radius) & (count * self.per <= GRID_BOX_LIMIT * 4)
        order = torch.nonzero(usable).flatten()
        order = order[count[order].argsort(stable=True)]  # alike boxes together: little padding
        for first in range(0, len(order), GRID_BOX_CHUNK):
            rows = order[first : first + GRID_BOX_CHUNK]
            span = int(count[rows].max())
            steps = torch.arange(span, device=query.device)
            chosen = (low[rows, None] + steps).clamp(max=self.slabs - 1)  # (B, span)
            valid = steps < count[rows, None]
            shift = chosen.double() * self.gap - self.bottom
            r, q_y = radius[rows, None].double(), y[rows, None].double()
            # A box reaching past the lowest or highest y would find its rank in the next slab: clamp.
            begin = torch.searchsorted(self.keys, (q_y - r + shift).contiguous()) - chosen * self.per
            end = torch.searchsorted(self.keys, (q_y + r + shift).contiguous(), right=True) - chosen * self.per
            begin, end = begin.clamp(0, self.per), end.clamp(0, self.per)
            lengths = torch.where(valid, end - begin, 0)
            fits = lengths.sum(1) <= GRID_BOX_LIMIT
            size = int(lengths[fits].max()) if fits.any() else 0
            if size == 0:
                continue
            rows, chosen, begin, lengths = rows[fits], chosen[fits], begin[fits], lengths[fits]
            offsets = torch.arange(size, device=query.device)
            inside = (offsets < lengths.unsqueeze(-1)).flatten(1)  # (B, span * size)
            positions = (begin.unsqueeze(-1) + offsets).clamp(0, self.per - 1)
            candidates = self.points[chosen.unsqueeze(-1), positions].flatten(1, 2)
            distances = (candidates - query[rows, None, :]).square().sum(-1).masked_fill(~inside, math.inf)
            nearest = distances.topk(k, dim=1, largest=False)
            result[rows] = self.index[chosen.unsqueeze(-1), positions].flatten(1, 2).gather(1, nearest.indices)
            done[rows] = torch.isfinite(nearest.values[:, -1])
        return done


def knn_accuracy(reference: Tensor, reference_labels: Tensor, query: Tensor, query_labels: Tensor, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) of query codes among reference codes."""
    if len(query) == 0:
        return 0.0
    classes = int(max(reference_labels.max(), query_labels.max())) + 1
    nearest = nearest_neighbours(reference, query, k)
    votes = torch.nn.functional.one_hot(reference_labels[nearest], classes).sum(1)
    # Ties go to the nearest neighbour's label: add a small bonus to it.
    votes = votes.float() + 0.5 * torch.nn.functional.one_hot(reference_labels[nearest[:, 0]], classes)
    return int((votes.argmax(1) == query_labels).sum()) / len(query)


def _brute_force(reference: Tensor, query: Tensor, k: int, exclude: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(distances, indices), each (Q, k), of the k nearest reference rows of each query, nearest
    first, by comparing with every reference row. The distances are computed directly (not through
    a matrix product, which loses digits), a chunk of queries at a time: small chunks stay in the
    cache. `exclude` (Q,) names a reference row each query skips (its own)."""
    distances = torch.empty(len(query), k, device=query.device)
    indices = torch.empty(len(query), k, dtype=torch.int64, device=query.device)
    for first in range(0, len(query), KNN_QUERY_CHUNK):
        rows = slice(first, first + KNN_QUERY_CHUNK)
        chunk = torch.cdist(query[rows], reference, compute_mode="donot_use_mm_for_euclid_dist")
        if exclude is not None:
            chunk[torch.arange(len(chunk), device=chunk.device), exclude[rows]] = math.inf
        distances[rows], indices[rows] = chunk.topk(k, dim=1, largest=False)
    return distances, indices
