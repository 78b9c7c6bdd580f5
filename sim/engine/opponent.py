"""Opponent models: what a party believes of the other side.

The opponent part of a negotiator holds its beliefs about the other side, for all B worlds at once:
its deadline (exact if public, a noisy prior draw if private), its reservation value (a noisy prior
draw), how far it has conceded so far, measured in the party's own utility (what tit-for-tat
reciprocates), and what it values: its utility per unit of each issue (what a trade-off offer serves).
It observes every offer received before the party plans its next one.

* :class:`NoisyPrior`: noisy priors on the deadline and reservation value; the other side's issue
  weights are known (common knowledge of payoffs, as in bargaining theory).
* :class:`FrequencyModel`: learns the weights from how often the other side leaves an issue unchanged
  (HardHeaded, van Krimpen, Looije & Hajizadeh 2013; the frequency family of Baarslag et al. 2013).
* :class:`BayesianModel`: a posterior over a set of weight hypotheses, updated from the offers received
  (Hindriks & Tykhonov 2008; Zeng & Sycara 1998).

Adding a model takes one subclass here (or in any importable module) and one YAML file in
``conf/opponent/`` whose ``opponent._target_`` names the class.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.domain.tradeoff import tradeoff_package
from sim.engine.acceptance import EPS
from sim.engine.streams import Stream

__all__ = ["BayesianModel", "FrequencyModel", "NoisyPrior", "OpponentModel"]


class OpponentModel:
    """Base class: beliefs about the other side over a batch of worlds.

    Attributes:
        PARAMS: Parameter name -> (default, lowest allowed, highest allowed).
        concession: Share of its room the other side has conceded so far, ``(B,)``.
    """

    PARAMS: ClassVar[dict[str, tuple[float, float, float]]] = {}

    def __init__(self, **params: np.ndarray) -> None:
        for name, (default, _, _) in self.PARAMS.items():
            setattr(self, name, np.asarray(params.get(name, default), dtype=float))

    def attach(self, me) -> None:
        """Bind the model to its negotiator ``me`` (and draw any prior); called once, at the table."""
        self.me = me
        self.concession = np.zeros(me.n_worlds)
        self._first_received = np.full(me.n_worlds, np.nan)
        self._first_offer: np.ndarray | None = None  # the other side's first and latest offers, (B, n)
        self._last_offer: np.ndarray | None = None
        beliefs = me.streams.normal(Stream.belief(me.index), 0, 2)
        self._deadline_error = np.rint(beliefs[:, 0] * me.inputs.belief_deadline_sd)
        self._reservation_error = beliefs[:, 1] * me.inputs.belief_reservation_sd

    def observe(self, u: np.ndarray, offer: np.ndarray) -> None:
        """Take in the offer just received, ``(B, n)``, and its utility to ``me``, ``(B,)``."""
        first = np.where(np.isnan(self._first_received), u, self._first_received)
        self._first_received = first
        room = 1.0 - first
        gained = np.divide(u - first, room, out=np.zeros_like(u), where=room > EPS)
        self.concession = np.clip(gained, 0.0, 1.0)
        if self._first_offer is None:
            self._first_offer = offer.copy()
        self._last_offer = offer

    @property
    def has_seen_offer(self) -> bool:
        """Whether the other side has made an offer yet."""
        return self._first_offer is not None

    def relative_concession(self, t: int, floor: np.ndarray | None = None, since_ideal: bool = False) -> np.ndarray:
        """Share of its room the other side has conceded so far, in its *believed* utility, ``(B,)``.

        Its room runs from its first offer (with ``since_ideal``: from its ideal package, so that an opening
        concession counts as a move) down to ``floor``, by default its believed reservation value in round ``t``;
        what it has conceded is how far its latest offer lies below the start. 0 before any offer, clipped to
        [0, 1].
        """
        if self._first_offer is None:
            return np.zeros(self.me.n_worlds)
        start = self.me.other.best if since_ideal else self._first_offer
        u_first, u_last = self.utility(start), self.utility(self._last_offer)
        floor = self.believed_reservation(t) if floor is None else floor
        room = u_first - floor
        conceded = np.divide(u_first - u_last, room, out=np.zeros_like(room), where=room > EPS)
        return np.clip(conceded, 0.0, 1.0)

    def utility(self, x: np.ndarray) -> np.ndarray:
        """The other side's believed utility of packages ``x``, ``(B,)`` (here its true one: weights known)."""
        return self.me.other.utility(x)

    def believed_reservation(self, t: int) -> np.ndarray:
        """The other side's believed reservation value in round ``t``, on the scale of :meth:`utility`."""
        return self.reservation(t)

    def deadline(self, t: int) -> np.ndarray:
        """Believed deadline of the other side in round ``t``: the truth plus a prior error of s.d.
        ``belief_noise.deadline`` rounds (rounded, within the horizon), exact if the deadline is public."""
        other = self.me.other
        truth = other.own_deadline(t)
        guess = np.clip(truth + self._deadline_error, 1.0, self.me.deadlines.max_rounds)
        return np.where(other.deadline_private, guess, truth)

    def reservation(self, t: int) -> np.ndarray:
        """Believed reservation value of the other side in round ``t`` (in its utility): the truth plus a
        prior error of s.d. ``belief_noise.reservation``, clipped to [0, 1]."""
        return np.clip(self.me.other.reservation(t) + self._reservation_error, 0.0, 1.0)

    def believed_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The bounds the other side has stated it will not cross, ``(lo, hi)`` each ``(B, n)``: its red lines as
        stated, taken at their word whatever their strength, and the issues it keeps off the table."""
        return self.me.other.stated_lo, self.me.other.stated_hi

    def weights(self) -> np.ndarray:
        """The other side's believed utility per unit of each issue, ``(B, n)`` (normalised utility)."""
        return self.me.other.utility.per_unit

    def believed_weights(self) -> np.ndarray:
        """:meth:`weights`, or a learning model's prior before it has seen an offer."""
        return self.weights()


class NoisyPrior(OpponentModel):
    """Beliefs drawn once from a prior around the truth, never updated.

    A party believes the other side's private deadline to be the true one plus a normal error of
    s.d. ``belief_noise.deadline`` rounds (rounded, within the horizon; exact if the deadline is
    public), and its reservation value to be the true one plus a normal error of s.d.
    ``belief_noise.reservation`` (clipped to [0, 1]). The s.d.s are the scenario's
    (``scenario.sides.PARTY.belief_noise``): how uncertain a side is belongs to the scenario. The other
    side's issue weights are known.
    """


class _LearnedWeights(OpponentModel):
    """Shared by the learning models: the other side's preferred direction per issue is read off its first
    offer (its opening is near its ideal: the bound of the box it is closer to), and its utility per unit
    is ``direction * weight / range`` with importance weights that sum to 1."""

    def attach(self, me) -> None:  # noqa: D102
        super().attach(me)
        self._lo, self._hi = me.box
        self._range = self._hi - self._lo
        self._sign: np.ndarray | None = None
        # the prior before any offer: the other side wants its ideal package (public: the line offers aim at
        # it), every issue alike
        self._prior_sign = self._direction_of(me.other.best)

    def _direction_of(self, offer: np.ndarray) -> np.ndarray:
        return np.where(self._range > 0, np.where(offer - self._lo >= self._hi - offer, 1.0, -1.0), 0.0)

    def _directions(self, offer: np.ndarray) -> None:
        if self._sign is None:
            self._sign = self._direction_of(offer)

    def _position(self, offer: np.ndarray) -> np.ndarray:
        """Where each issue of ``offer`` sits in the other side's favour: 1 at its preferred bound, 0 at the other."""
        toward = np.where(self._sign > 0, offer - self._lo, self._hi - offer)
        return np.divide(toward, self._range, out=np.zeros_like(offer), where=self._range > 0)

    def _importance(self) -> np.ndarray:
        raise NotImplementedError

    def weights(self) -> np.ndarray:  # noqa: D102
        if self._sign is None:  # nothing seen yet: no preference known
            return np.zeros((self.me.n_worlds, self._range.shape[-1]))
        return self._sign * self._importance() * self._per_unit()

    def _per_unit(self) -> np.ndarray:
        return np.divide(1.0, self._range, out=np.zeros_like(self._range), where=self._range > 0)

    def believed_weights(self) -> np.ndarray:
        """:meth:`weights`, or before any offer the prior: equal importance toward the other side's ideal."""
        if self._sign is None:
            n = self._range.shape[-1]
            return np.broadcast_to(self._prior_sign * self._per_unit() / n, (self.me.n_worlds, n))
        return self.weights()

    def utility(self, x: np.ndarray) -> np.ndarray:
        """The other side's utility by the learned weights, normalised over the box (0 at its worst package,
        1 at its best), ``(B,)``."""
        c = self.believed_weights()
        k = -np.minimum(c * self._lo, c * self._hi).sum(axis=1)
        span = np.maximum(c * self._lo, c * self._hi).sum(axis=1) + k
        return np.divide((x * c).sum(axis=1) + k, span, out=np.zeros(len(c)), where=span > 0)

    def believed_reservation(self, t: int) -> np.ndarray:
        """The other side's believed reservation value on the learned scale: its believed utility of the mean
        no-deal package over the valuation window (as its true one is), plus the prior error, within [0, 1]."""
        path = self.me.value_of_no_deal.path
        return np.clip(self.utility(path.package(t)) + self._reservation_error, 0.0, 1.0)


class FrequencyModel(_LearnedWeights):
    """Frequency model: the issues the other side holds on to are the ones it cares about.

    HardHeaded's update, made continuous: starting from equal weights, after each offer every issue gains
    ``learning_rate`` times its position in the other side's favour (1 at the value it opened with, 0 at the
    far end of the box); the estimate is the weights normalised to sum to 1. Every offer counts alike (the
    counts are not renormalised after each offer, which would discount the early ones). An issue held at its
    opening value
    gains fully (HardHeaded's "unchanged" count), one already given up gains nothing (with continuous issues
    a conceded issue also stays unchanged, so counting unchanged values alone would credit the cheapest
    issues, conceded first)."""

    PARAMS: ClassVar = {"learning_rate": (0.2, 0.0, 10.0)}

    def attach(self, me) -> None:  # noqa: D102
        super().attach(me)
        n = self._range.shape[-1]
        self._w = np.full((me.n_worlds, n), 1.0 / n)
        self._seen = False

    def observe(self, u, offer):  # noqa: D102
        super().observe(u, offer)
        self._directions(offer)
        if self._seen:  # the opening offer only tells the directions
            self._w = self._w + np.reshape(self.learning_rate, (-1, 1)) * self._position(offer)
        self._seen = True

    def _importance(self):
        return self._w / self._w.sum(axis=1, keepdims=True)


class BayesianModel(_LearnedWeights):
    """Bayesian model over weight hypotheses (Hindriks & Tykhonov 2008): a posterior over ``hypotheses``
    importance vectors (equal weights and draws from a flat Dirichlet, the same in every world), updated from
    each offer received.

    The likelihood assumes an efficient opponent (Zeng & Sycara 1998 assume a rational one): under hypothesis
    ``h`` the other side, at the utility its offer keeps for it, could have offered the package best for this
    side (:func:`~sim.domain.tradeoff.tradeoff_package`); the shortfall of its actual offer from that, in this
    side's utility (the *regret*), makes ``h`` less likely: ``P(offer | h) ~ exp(-rationality * regret_h)``.
    Hypotheses that order the issues as the other side's concessions do keep their weight, so the posterior
    mean recovers the ranking and, on average over the hypotheses consistent with it, the sizes.
    """

    PARAMS: ClassVar = {"hypotheses": (64.0, 2.0, 4096.0), "rationality": (50.0, 0.0, 1e4)}

    def attach(self, me) -> None:  # noqa: D102
        super().attach(me)
        n, k = self._range.shape[-1], int(np.max(self.hypotheses))
        # the hypotheses are a property of the model, not of a world: a fixed generator
        draws = np.random.default_rng(np.random.SeedSequence([k, n])).dirichlet(np.ones(n), size=k - 1)
        self._hypotheses = np.vstack([np.full(n, 1.0 / n), draws])  # (K, n)
        self._log_post = np.zeros((me.n_worlds, k))

    def observe(self, u, offer):  # noqa: D102
        super().observe(u, offer)
        self._directions(offer)
        b, n = offer.shape
        k = len(self._hypotheses)
        c_h = (self._sign * self._per_unit())[:, None, :] * self._hypotheses[None]  # (B, K, n): its utility under h
        # (B, K): its utility of the offer under h. einsum, not the BLAS product: each world's sums are the same
        # numbers in a batch of one as in a batch of thousands (a chunk's last world alone differed in the last bit)
        kept = np.einsum("bn,kn->bk", self._position(offer), self._hypotheses)
        mine = self.me.utility.per_unit  # (B, n)
        ideal = np.where(self._sign > 0, self._hi, self._lo) * np.ones((b, 1))
        lo, hi = self._lo, self._hi
        if lo.ndim == 2:  # the worlds' own boxes, one per world and hypothesis
            lo, hi = np.repeat(lo, k, axis=0), np.repeat(hi, k, axis=0)
        best_for_me = tradeoff_package(c_h.reshape(b * k, n), np.repeat(mine, k, axis=0), lo, hi,
                                       np.repeat(ideal, k, axis=0), (1.0 - kept).reshape(-1))
        regret = np.maximum(((best_for_me.reshape(b, k, n) - offer[:, None, :]) * mine[:, None, :]).sum(axis=2), 0)
        self._log_post -= np.reshape(self.rationality, (-1, 1)) * regret
        self._log_post -= self._log_post.max(axis=1, keepdims=True)
        p = np.exp(self._log_post)
        p /= p.sum(axis=1, keepdims=True)
        self._mean = np.einsum("bk,kn->bn", p, self._hypotheses)  # the posterior mean, until the next offer

    def _importance(self):
        return self._mean
