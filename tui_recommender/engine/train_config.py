"""The LightGCN recipe as one typed, frozen object: the model's hyperparameters (every
checkpoint holds them) and the training options (the device, which checkpoints never hold).
Defaults and ranges live here only; every field is checked on construction, so a bad value
from the command line or a checkpoint stops with one line naming the field. No torch here:
checkpoints are read and validated before torch loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Literal, get_args

from tui_recommender.core.device_names import DEVICE_NAMES
from tui_recommender.core.errors import ConfigError
from tui_recommender.core.text import shorten
from tui_recommender.engine.config_checks import Choice, DeviceName, Flag, OrSized, Real, Weights, Whole, about
from tui_recommender.engine.ranking import DEFAULT_SCORING, SCORINGS, Scoring

# "full_softmax": each user's softmax over every item (see model.py); "bpr"; "softmax":
# sampled softmax over cosine similarities
Loss = Literal["full_softmax", "bpr", "softmax"]
# "user": a uniform user, then one of their positives; "edge": a uniform edge
Sampling = Literal["user", "edge"]
# full_softmax's logits: "dot", LightGCN's dot product; "cosine", cosine / temperature (user and
# movie rows normalised), which ranks by cosine too
Logits = Literal["dot", "cosine"]
LEGACY_LOSS: Loss = "bpr"  # of a checkpoint that names no loss: saved before the other losses existed
LEGACY_LOGITS: Logits = "dot"  # of a checkpoint that names no logits: saved before cosine logits existed
DEFAULT_REG = 3e-3  # the L2 weight as given on MovieLens-dense data (fitted on ml-latest-small)
# The default reg (None) is sized to the data (`TrainConfig.sized`). The listwise L2 over dot
# products applies as given down to this density (positives per user x movie; ml-latest-small
# trains at 1.0-1.4%) and grows as the data thin below it, as (REG_DENSITY / density) **
# REG_DENSITY_POWER: at Gowalla's 0.066%, x10 = 3e-2, the best of 2e-2, 3e-2, 4e-2, 5.5e-2 and
# 8e-2 on its count-matched validation split (benchmarks/README.md, round 6); over cosine
# logits it stays (3e-3 beat 2e-2 there)
REG_DENSITY = 0.004
REG_DENSITY_POWER = 1.28
EPOCH_STEPS = 8  # an epoch takes at most this many steps: each propagates the whole graph
# The default logq (None) is sized too: the sampled softmax's logQ correction (`plan.py`) has
# weight 1 (the unbiased estimate of the whole softmax) down to REG_DENSITY and LOGQ_SPARSE
# below it, over dot products: there the learnt scores keep more of each movie's popularity,
# which Gowalla's test split rewards (2 beat 0.5, 1, 1.5, 3 and 5 on a validation split shaped like it)
LOGQ_SPARSE = 2.0
# The default lr_decay (None) is sized too: 1 (none) down to REG_DENSITY; below it, over dot
# products, Adam's step size is cut to LR_DECAY_SPARSE of itself at the first validation
# check without a gain: on Gowalla's test-shaped validation split that lifted the peak from
# 0.1917 / 0.1091 to 0.1965 / 0.1121 (recall@20 / ndcg@20) with the cut one check past it
LR_DECAY_SPARSE = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """How a LightGCN model is built and trained. Early stopping checks validation
    Recall@20 every `eval_every` epochs and stops after `patience` checks without a gain;
    with `refit`, a fresh model then trains on every pair for the best epoch count."""

    dim: int = field(default=192, metadata=about(Whole(1, 4096), "embedding width"))
    n_layers: int = field(default=3, metadata=about(Whole(0, 16), "propagation layers K"))
    init_std: float = field(
        default=0.1, metadata=about(Real(0.0, 10.0, above=True), "std of the normal layer-0 initialisation")
    )
    lr: float = field(default=0.01, metadata=about(Real(0.0, 10.0, above=True), "Adam's step size"))
    # None: DEFAULT_REG, and for full_softmax more on sparse data (`sized`); a value given means itself
    reg: float | None = field(
        default=None,
        metadata=about(
            OrSized(
                Real(0.0, 100.0),
                f"{DEFAULT_REG:g}; for full_softmax over dot products x ({REG_DENSITY:g} / density)"
                f"^{REG_DENSITY_POWER:g} below a density of {REG_DENSITY:g}",
            ),
            "L2 weight: full_softmax on the whole layer-0 table per user; bpr/softmax per pair",
        ),
    )
    # None: 1, and LOGQ_SPARSE over dot products on sparse data (`sized`); a value given means itself
    logq: float | None = field(
        default=None,
        metadata=about(
            OrSized(
                Real(0.0, 10.0),
                f"1; {LOGQ_SPARSE:g} for full_softmax over dot products below a density of {REG_DENSITY:g}",
            ),
            "full_softmax over drawn movies (epoch_scores): weight of the logQ correction; above 1 the scores"
            " keep more popularity",
        ),
    )
    # None: 1, and LR_DECAY_SPARSE over dot products on sparse data (`sized`); a value given means itself
    lr_decay: float | None = field(
        default=None,
        metadata=about(
            OrSized(
                Real(0.0, 1.0, above=True),
                f"1; {LR_DECAY_SPARSE:g} for full_softmax over dot products below a density of {REG_DENSITY:g}",
            ),
            "Adam's step size is multiplied by this, once, at the first validation check without a gain"
            " (the refit at the same epoch); 1: never",
        ),
    )
    batch_size: int = field(default=2048, metadata=about(Whole(1, 2**24), "bpr/softmax: positive pairs per step"))
    user_batch: int = field(
        default=128, metadata=about(Whole(1, 2**24), "full_softmax: users per step (more when epoch_steps asks)")
    )
    # Each step propagates the whole graph: larger data take larger batches, not more steps
    epoch_steps: int = field(
        default=EPOCH_STEPS,
        metadata=about(
            Whole(1, 2**24), "full_softmax: most steps per epoch; past it batches grow, lr by sqrt(batch/user_batch)"
        ),
    )
    epoch_scores: int = field(
        default=2**28,
        metadata=about(
            Whole(1, 2**62),
            "full_softmax: most user-movie scores per epoch; past it each step scores movies drawn by popularity",
        ),
    )
    max_epochs: int = field(
        default=200, metadata=about(Whole(1, 100_000), "most epochs (early stopping may end sooner)")
    )
    eval_every: int = field(default=5, metadata=about(Whole(1, 100_000), "epochs between validation checks"))
    patience: int = field(
        default=4, metadata=about(Whole(1, 100_000), "validation checks without a gain before stopping")
    )
    seed: int = field(
        default=0, metadata=about(Whole(0, 2**32 - 1), "seed of the initialisation, sampling and validation split")
    )
    # Cheap, as the propagation dominates a step
    negatives: int = field(
        default=8,
        metadata=about(Whole(1, 1_000_000), "bpr: negatives per positive pair; softmax: shared by the batch"),
    )
    loss: Loss = field(default="full_softmax", metadata=about(Choice(get_args(Loss)), "training loss"))
    temperature: float = field(
        default=0.1,
        metadata=about(Real(0.0, 100.0, above=True), "softmax, and cosine logits: logits are cosine / temperature"),
    )
    # Cosine lifted Gowalla's validation recall@20 but lowered its test figures and ml-latest-small's
    # NDCG and calibration (benchmarks/README.md), so dot products stay the default everywhere
    logits: Logits = field(
        default="dot",
        metadata=about(
            Choice(get_args(Logits)),
            "full_softmax: dot products, or cosine / temperature (which then also ranks by cosine)",
        ),
    )
    layer_weights: tuple[float, ...] | None = field(
        default=None, metadata=about(Weights(), "alpha_0..alpha_K of the layer sum (default 1 / (K + 1) each)")
    )
    scoring: Scoring = field(
        default=DEFAULT_SCORING,
        metadata=about(Choice(SCORINGS), "how rankings score: validation here, the app later (cosine logits: cosine)"),
    )
    refit: bool = field(
        default=True, metadata=about(Flag(), "after early stopping, retrain on every pair for the best epoch count")
    )
    sampling: Sampling = field(
        default="user", metadata=about(Choice(get_args(Sampling)), "bpr/softmax: how positive pairs are drawn")
    )
    device: str = field(
        default="auto",
        metadata=about(DeviceName(), "where training runs; auto: a CUDA GPU when there is one, else the CPU"),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            problem = f.metadata["check"].problem(value)
            if problem is not None:
                raise ConfigError(f"{f.name} is {shorten(repr(value))}, {problem}")
            check = f.metadata["check"]
            real = isinstance(check, Real | OrSized)
            if real and value is not None:
                object.__setattr__(self, f.name, float(value))
        if self.layer_weights is not None:
            if len(self.layer_weights) != self.n_layers + 1:
                shown = list(self.layer_weights)
                raise ConfigError(
                    f"layer_weights is {shorten(repr(shown))}, not n_layers + 1 = {self.n_layers + 1} numbers"
                )
            object.__setattr__(self, "layer_weights", tuple(float(w) for w in self.layer_weights))
        if self.loss == "full_softmax" and self.logits == "cosine":  # it ranks by what it learnt
            object.__setattr__(self, "scoring", "cosine")

    def sized_reg(self, n_users: int, n_items: int, n_edges: int) -> float:
        """The L2 weight applied on a graph of `n_edges` positives between `n_users` and
        `n_items`: `reg` when given; else DEFAULT_REG, which for full_softmax over dot
        products grows as x (REG_DENSITY / density) ** REG_DENSITY_POWER below density
        n_edges / (n_users x n_items) = REG_DENSITY (sparser data overfit sooner)."""
        if self.reg is not None:
            return self.reg
        density = n_edges / max(n_users * n_items, 1)
        if self.loss != "full_softmax" or density >= REG_DENSITY or density == 0:
            return DEFAULT_REG
        if self.logits == "cosine":  # on Gowalla 3e-3 beat 2e-2 with cosine
            return DEFAULT_REG
        return DEFAULT_REG * (REG_DENSITY / density) ** REG_DENSITY_POWER

    def sized_logq(self, n_users: int, n_items: int, n_edges: int) -> float:
        """The weight of the sampled softmax's logQ correction on a graph of `n_edges`
        positives between `n_users` and `n_items`: `logq` when given; else 1, or LOGQ_SPARSE
        for full_softmax over dot products below density REG_DENSITY."""
        if self.logq is not None:
            return self.logq
        return LOGQ_SPARSE if self._sparse_dot_listwise(n_users, n_items, n_edges) else 1.0

    def sized_lr_decay(self, n_users: int, n_items: int, n_edges: int) -> float:
        """The factor of the one step-size cut at the first validation check without a gain,
        on a graph of `n_edges` positives between `n_users` and `n_items`: `lr_decay` when
        given; else 1 (no cut), or LR_DECAY_SPARSE for full_softmax over dot products below
        density REG_DENSITY."""
        if self.lr_decay is not None:
            return self.lr_decay
        return LR_DECAY_SPARSE if self._sparse_dot_listwise(n_users, n_items, n_edges) else 1.0

    def _sparse_dot_listwise(self, n_users: int, n_items: int, n_edges: int) -> bool:
        """Whether this is full_softmax over dot products on a graph sparser than REG_DENSITY,
        where the sized logq and lr_decay depart from their MovieLens-dense values."""
        density = n_edges / max(n_users * n_items, 1)
        return self.loss == "full_softmax" and self.logits == "dot" and 0 < density < REG_DENSITY

    def sized(self, n_users: int, n_items: int, n_edges: int) -> TrainConfig:
        """This recipe with its sized defaults (reg, logq, lr_decay) set to what applies on such
        a graph: what a training runs and its checkpoint records. A value given stays as given."""
        return replace(
            self,
            reg=self.sized_reg(n_users, n_items, n_edges),
            logq=self.sized_logq(n_users, n_items, n_edges),
            lr_decay=self.sized_lr_decay(n_users, n_items, n_edges),
        )

    @property
    def cosine_temperature(self) -> float | None:
        """full_softmax's temperature when its logits are cosine / temperature, else None."""
        return self.temperature if self.loss == "full_softmax" and self.logits == "cosine" else None

    def hyperparameters(self) -> dict:
        """Every field but the device, JSON-ready: what a checkpoint holds."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "device"}
        if self.layer_weights is not None:
            out["layer_weights"] = list(self.layer_weights)
        return out

    @classmethod
    def from_hyperparameters(cls, hyperparameters: object) -> TrainConfig:
        """The config a checkpoint's `hyperparameters` (parsed JSON) describe; a missing
        field takes its default (a missing `loss`: LEGACY_LOSS; `logits`, `reg`, `logq`,
        `lr_decay`: LEGACY_LOGITS, DEFAULT_REG, 1, 1, what applied before they were sized). Raises `ConfigError` (one
        line naming the key) on anything else: an unknown key, a wrong type or a value out
        of range."""
        if not isinstance(hyperparameters, dict):
            raise ConfigError("hyperparameters are not an object")
        known = {f.name for f in fields(cls)} - {"device"}
        unknown = sorted(str(key) for key in hyperparameters if key not in known)
        if unknown:
            raise ConfigError(f"unknown hyperparameter {shorten(repr(unknown[0]))}")
        try:
            legacy = {"loss": LEGACY_LOSS, "logits": LEGACY_LOGITS, "reg": DEFAULT_REG, "logq": 1.0, "lr_decay": 1.0}
            return cls(**{**legacy, **hyperparameters})
        except ConfigError as error:
            raise ConfigError(f"hyperparameter {error}") from None

    @classmethod
    def from_options(cls, options: Mapping[str, str], labels: Mapping[str, str] | None = None) -> TrainConfig:
        """The defaults with fields set from text, as typed on a command line (`{"lr":
        "0.02"}`): each is parsed to its field's type, then checked; a `ConfigError` names
        the field by its entry in `labels` (e.g. "--lr"), else by its name."""
        by_name = {f.name: f for f in fields(cls)}
        values = {}
        for name, text in options.items():
            label = (labels or {}).get(name, name)
            if name not in by_name:
                raise ConfigError(f"{shorten(repr(label))} is not a training option")
            check = by_name[name].metadata["check"]
            values[name] = check.parse(text)
            problem = check.problem(values[name])
            if problem is not None:
                raise ConfigError(f"{label} {shorten(repr(text))} is {problem}")
        return cls(**values)


def option_help(name: str) -> str:
    """What field `name` sets, its choices or range, and its default, for a --help text."""
    spec = next(f for f in fields(TrainConfig) if f.name == name)
    check = spec.metadata["check"]
    default = check.sized if isinstance(check, OrSized) else spec.default
    check = check.check if isinstance(check, OrSized) else check
    if isinstance(check, Choice):
        allowed = ", ".join(check.choices)
    elif isinstance(check, DeviceName):
        allowed = ", ".join(DEVICE_NAMES)
    elif isinstance(check, Whole | Real):
        allowed = f"{'above ' if getattr(check, 'above', False) else ''}{check.low:g} to {check.high:g}"
    else:
        allowed = ""
    return f"{spec.metadata['help']} ({allowed + '; ' if allowed else ''}default {default})"
