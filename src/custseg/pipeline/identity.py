"""Identity: match a new run's segments to a previous model's, so a segment keeps its id and name.

The new segments' centres are placed in the *previous* model's space (the mean of the new
customers of each segment after the previous model's scaling) and paired one to one with the
previous centres by the Hungarian assignment (``scipy.optimize.linear_sum_assignment``), which
minimises the total distance moved.

Distance rule. A pair is "too far to be the same segment" when the centre moved more than half
the distance from the previous centre to its nearest other previous centre: past that point it
sits at least as close to where a different segment was as to where its own was. Such a pair is
reported as one segment that vanished and one that appeared.

Numbering. Carried-over segments keep their previous id; segments that appeared take the next
numbers after the previous ones. Segment ids are always 0..k-1 (scoring, model files and the
report index segments by id), so when segments vanished or k shrank, a free lower number is used
instead and the segment is flagged (``renumbered`` or ``new``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.compose import ColumnTransformer

from custseg.exceptions import ConfigError
from custseg.features import FeaturePlan, feature_frame
from custseg.model import Segmenter

# A match is too far when the centre moved more than this share of the distance from the
# previous centre to its nearest other previous centre (see the module docstring).
TOO_FAR = 0.5


class PreviousModel(Protocol):
    """What identity needs of a previous model (a loaded :class:`~custseg.SegmentModel`)."""

    preprocessor: ColumnTransformer
    model: Segmenter
    plan: FeaturePlan
    profiles: list[dict]


@dataclass(frozen=True)
class SegmentMatch:
    """One segment of either run: carried over, appeared or vanished."""

    status: str  # "carried", "appeared" or "vanished"
    id: int | None  # id in the new run (None when vanished)
    previous_id: int | None  # id in the previous run (None when appeared)
    name: str
    moved: float | None = None  # distance between the two centres, in the previous model space
    gap: float | None = None  # distance from the previous centre to its nearest other one
    shift: dict[str, float] = field(default_factory=dict)  # change of each feature's mean

    @property
    def moved_share(self) -> float | None:
        """``moved`` as a share of ``gap`` (above ``TOO_FAR`` means too far)."""
        if self.moved is None or not self.gap:
            return None
        return self.moved / self.gap

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "id": self.id,
            "previous_id": self.previous_id,
            "name": self.name,
            "moved": self.moved,
            "gap": self.gap,
            "moved_share": self.moved_share,
            "shift": self.shift,
        }


@dataclass(frozen=True)
class Identity:
    """How the segments of a run relate to a previous model's.

    Attributes
    ----------
    segments : list of SegmentMatch
        Every segment of the new run (carried or appeared), then those that vanished.
    order : numpy.ndarray
        ``order[new id] = fitted index``: how the fitted segments were renumbered.
    previous_names : dict
        Previous segment id -> name.
    previous_means : dict
        Previous segment id -> mean of each numeric feature.
    """

    segments: list[SegmentMatch]
    order: np.ndarray
    previous_names: dict[int, str]
    previous_means: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def carried(self) -> dict[int, int]:
        """New id -> previous id, for the segments carried over."""
        return {m.id: m.previous_id for m in self.segments if m.status == "carried"}

    @property
    def names(self) -> dict[int, str]:
        """New id -> the previous name, for the segments carried over."""
        return {m.id: m.name for m in self.segments if m.status == "carried"}

    def sentences(self) -> list[str]:
        """What happened to each segment, in plain words."""
        out = []
        for m in self.segments:
            if m.status == "carried":
                renumbered = f" (was segment {m.previous_id})" if m.id != m.previous_id else ""
                share = m.moved_share
                moved = (
                    ""
                    if share is None
                    else (f"; its centre moved {share:.0%} of the way to the nearest other segment")
                )
                out.append(f"Segment {m.id} {m.name!r}{renumbered} carried over{moved}")
            elif m.status == "appeared":
                out.append(f"Segment {m.id} {m.name!r} is new: no segment of the previous run")
            else:
                out.append(f"Previous segment {m.previous_id} {m.name!r} vanished")
        return out

    def summary(self) -> dict:
        """The ``identity`` section of ``summary.json``."""
        counts = {s: sum(m.status == s for m in self.segments) for s in STATUSES}
        return {
            "rule": (
                f"a segment is carried over when its centre moved at most {TOO_FAR:.0%} of the "
                "distance from its previous centre to the nearest other previous centre "
                "(in the previous model's scaled space)"
            ),
            **counts,
            "segments": [m.to_dict() for m in self.segments],
            "sentences": self.sentences(),
        }


STATUSES = ("carried", "appeared", "vanished")


def check_same_features(previous: PreviousModel, plan: FeaturePlan) -> None:
    """Raise :class:`ConfigError` unless the previous model used this run's features and scaling."""
    old = previous.plan
    differences = []
    if list(old.columns) != list(plan.columns):
        differences.append(f"features {list(old.columns)!r}, this run {list(plan.columns)!r}")
    if old.scale != plan.scale:
        differences.append(f"scaling {old.scale!r}, this run {plan.scale!r}")
    if sorted(old.log) != sorted(plan.log):
        differences.append(f"log-transformed {list(old.log)!r}, this run {list(plan.log)!r}")
    if differences:
        raise ConfigError(
            "The previous model cannot be compared with this run: it used "
            + "; ".join(differences)
            + ". Run with the previous model's features, scaling and log settings (see its "
            "summary.json) so the segments are measured the same way."
        )


def match_segments(
    previous: PreviousModel,
    rows: pd.DataFrame,
    labels: np.ndarray,
    plan: FeaturePlan,
) -> Identity:
    """Pair the new segments with the previous model's (Hungarian assignment on centres).

    Parameters
    ----------
    previous : PreviousModel
        The previous run's model (see :func:`custseg.load_model`).
    rows : DataFrame
        The segmented rows of the new run (input columns).
    labels : array of int
        Fitted segment of each of ``rows``.
    plan : FeaturePlan
        The new run's features; must match the previous model's.
    """
    check_same_features(previous, plan)
    k = int(labels.max()) + 1
    new_centres = _centres_in(previous, rows, labels, k)
    old_centres = np.asarray(previous.model.cluster_centers_, dtype=float)
    cost = np.linalg.norm(old_centres[:, None, :] - new_centres[None, :, :], axis=2)
    gaps = np.linalg.norm(old_centres[:, None, :] - old_centres[None, :, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    gap = gaps.min(axis=1)
    old_rows, new_cols = linear_sum_assignment(cost)
    pairs = {
        int(n): int(o)
        for o, n in zip(old_rows, new_cols, strict=True)
        if cost[o, n] <= TOO_FAR * gap[o]
    }
    old_names = {int(p["id"]): str(p["name"]) for p in previous.profiles}
    new_id = _numbering(pairs, k)
    order = np.empty(k, dtype=int)
    for fitted, nid in new_id.items():
        order[nid] = fitted
    segments = []
    for nid in range(k):
        fitted = int(order[nid])
        if fitted in pairs:
            o = pairs[fitted]
            name = old_names.get(o, f"Segment {o}")
            moved = float(cost[o, fitted])
            segments.append(SegmentMatch("carried", nid, o, name, moved, float(gap[o])))
        else:
            segments.append(SegmentMatch("appeared", nid, None, ""))
    for o in range(len(old_centres)):
        if o not in pairs.values():
            segments.append(SegmentMatch("vanished", None, o, old_names.get(o, f"Segment {o}")))
    old_means = {int(p["id"]): dict(p.get("means", {})) for p in previous.profiles}
    return Identity(segments, order, old_names, old_means)


CHUNK_ROWS = 1 << 20  # rows scaled at a time: bounded memory on a large table


def _centres_in(previous: PreviousModel, rows: pd.DataFrame, labels: np.ndarray, k: int):
    """Mean of each fitted segment's rows after the previous model's scaling."""
    sums, counts = None, np.bincount(labels, minlength=k)
    for start in range(0, len(rows), CHUNK_ROWS):
        part = feature_frame(rows.iloc[start : start + CHUNK_ROWS], previous.plan)
        with np.errstate(all="ignore"):
            Z = np.asarray(previous.preprocessor.transform(part), dtype=float)
        if sums is None:
            sums = np.zeros((k, Z.shape[1]))
        part_labels = labels[start : start + CHUNK_ROWS]
        for j in range(Z.shape[1]):
            sums[:, j] += np.bincount(part_labels, weights=Z[:, j], minlength=k)
    return sums / np.maximum(counts, 1)[:, None]


def _numbering(pairs: dict[int, int], k: int) -> dict[int, int]:
    """Fitted index -> new id: carried keep their previous id, the rest take the lowest free one
    (the numbers after the previous ones, unless segments vanished or k shrank)."""
    new_id = {f: o for f, o in pairs.items() if o < k}
    free = iter(sorted(set(range(k)) - set(new_id.values())))
    for fitted in range(k):  # fitted indices are in size order: larger segments first
        if fitted not in new_id:
            new_id[fitted] = next(free)
    return new_id


def relabel(model: Segmenter, order: np.ndarray) -> Segmenter:
    """A copy of ``model`` whose segment ``i`` is the fitted segment ``order[i]``."""
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    out = copy.copy(model)
    out.cluster_centers_ = model.cluster_centers_[order]
    out.labels_ = rank[model.labels_]
    return out


def carry_names(profiles: list, identity: Identity) -> None:
    """Carried segments take their previous name and say how each feature's mean changed; a
    new segment whose name is taken gets ``(new)`` added, so names stay unique."""
    names = identity.names
    for p in profiles:
        if p.id in names:
            p.name = names[p.id]
    taken = set(names.values())
    for p in profiles:
        if p.id not in names and p.name in taken:
            p.name = f"{p.name} (new)"
    by_id = {p.id: p for p in profiles}
    for i, m in enumerate(identity.segments):
        if m.status == "appeared":
            identity.segments[i] = replace(m, name=by_id[m.id].name if m.id in by_id else "")
        elif m.status == "carried" and m.id in by_id:
            before = identity.previous_means.get(m.previous_id, {})
            now = by_id[m.id].means
            shift = {
                c: float(now[c] - before[c])
                for c in now
                if now[c] is not None and before.get(c) is not None
            }
            identity.segments[i] = replace(m, shift=shift)
