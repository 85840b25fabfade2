"""Training examples in the Hunyuan chat format, made from corpus documents.

Token layout (hy-model.md, src/text/chat_format.cpp):
  BOS <｜hy_User｜> user <｜hy_Assistant｜> reply <｜hy_place▁holder▁no▁2｜>
with reply = "<think>\\n{think}\\n</think>\\n<answer>\\n{answer}\\n</answer>".
A user text starting with "/no_think" gets an empty think block, exactly the
block hy2bit appends to the prompt ("<think>\\n\\n</think>\\n").
Which prompt a document gets, and whether thinking is off (30%), is drawn
from a generator seeded by (seed, epoch, document index): reproducible.
"""
import random
import re

from .corpus import plain_text, rhymes

BOS = "<｜hy_begin▁of▁sentence｜>"
USER = "<｜hy_User｜>"
ASSISTANT = "<｜hy_Assistant｜>"
EOT = "<｜hy_place▁holder▁no▁2｜>"
END_OF_SYSTEM = "<｜hy_place▁holder▁no▁3｜>"
THINK_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
NO_THINK = "/no_think"

# Characters that make a verse line fit a spring couplet (春联).
_SPRING = set("春福喜新年歲岁瑞吉祥安泰和順顺豐丰旺興兴昌樂乐慶庆花開开")
_PUNCT = re.compile(r"[，。！？；、]")


def couplets(doc):
    """Parallel couplets of a regulated verse (律诗 lines 3-4 and 5-6, which
    the form requires to be parallel) that contain a festive character."""
    if doc["kind"] != "shi" or not (doc.get("form") or "").endswith("律诗"):
        return []
    clauses = [c for c in _PUNCT.split("".join(doc["lines"])) if c]
    out = []
    for a, b in ((2, 3), (4, 5)):
        first, second = clauses[a], clauses[b]
        if any(ch in _SPRING for ch in first + second):
            out.append((first, second))
    return out


def _poem_example(doc, rng):
    title, form, lines = doc["title"], doc.get("form") or "", doc["lines"]
    answer = plain_text(doc)
    rh = "、".join(rhymes(lines)[:4])
    if doc["kind"] == "ci":
        choices = [(f"填一首词，词牌《{form}》", f"词牌《{form}》，按谱填词。"),
                   (f"写一首{form}", f"词牌《{form}》。")]
    else:
        choices = [(f"写一首诗，题目是《{title}》", f"题目《{title}》，写{form}。"),
                   (f"以《{title}》为题写一首{form}", f"{form}，题目《{title}》。")]
        if form and form != "古体诗":
            choices.append((f"写一首{form}", f"{form}，题目《{title}》。"))
        for tag in doc.get("tags") or []:
            choices.append((f"写一首关于{tag}的诗", f"主题{tag}，写{form}，题目《{title}》。"))
    user, think = rng.choice(choices)
    if rh:
        think += f"韵脚：{rh}。"
    return user, think, answer


def _couplet_example(pair, rng):
    first, second = pair
    user = rng.choice(["写一副春联", "写一副对联", "来一副春联"])
    think = f"春联，{len(first)}字一句，上下联对仗。"
    return user, think, f"上联：{first}\n下联：{second}"


def _fortune_example(doc, rng):
    topic = doc["topic"]
    if doc["kind"] == "fortune_en":
        user = rng.choice([f"Tell me a fortune about {topic}.", f"A fortune on {topic}, please.",
                           f"Give me a saying about {topic}."])
        think = f"Topic: {topic}. A short fortune-cookie saying."
    else:
        user = rng.choice(["说一句格言", "给我一句中文格言"])
        think = "一句格言。"
    return user, think, doc["text"]


def make_example(doc, rng):
    """(user, think, answer) for one document; a regulated verse with a
    festive couplet is a 春联 example a third of the time."""
    if doc["kind"] in ("shi", "ci"):
        pairs = couplets(doc)
        if pairs and rng.random() < 1 / 3:
            return _couplet_example(rng.choice(pairs), rng)
        return _poem_example(doc, rng)
    return _fortune_example(doc, rng)


def reply_text(think, answer):
    return f"<think>\n{think}\n</think>\n<answer>\n{answer}\n</answer>"


def render(user, think, answer, no_think):
    """The whole training sequence as text (control tokens parsed as special)."""
    if no_think:
        user, think = NO_THINK + user, ""
    return BOS + USER + user + ASSISTANT + reply_text(think, answer) + EOT


def example_text(doc, seed, epoch, index):
    rng = random.Random(f"{seed}:{epoch}:{index}")
    user, think, answer = make_example(doc, rng)
    return render(user, think, answer, rng.random() < 0.3)
