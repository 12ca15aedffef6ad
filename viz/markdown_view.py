"""Markdown to HTML for the Info and ODD tabs, with simple formulas and no scripts.

Solara's own Markdown component loads KaTeX and Mermaid from its asset cache,
and the offline cache has no KaTeX, so the view renders Markdown here in
Python. Formulas (``$...$`` and ``$$...$$``) are turned into plain HTML
(Greek letters, sub- and superscripts, fractions as a/b): enough to read an
equation on screen. docs/ODD.md keeps the exact LaTeX.
"""

from __future__ import annotations

import html
import re

SYMBOLS = {
    "cdot": "·", "times": "×", "leftarrow": "←", "rightarrow": "→", "to": "→", "gets": "←",
    "Leftarrow": "⇐", "Rightarrow": "⇒", "ge": "≥", "geq": "≥", "le": "≤", "leq": "≤", "ne": "≠", "neq": "≠",
    "in": "∈", "notin": "∉", "sim": "~", "approx": "≈", "propto": "∝", "sum": "Σ", "prod": "Π", "infty": "∞",
    "ell": "ℓ", "pm": "±", "mid": "|", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "langle": "⟨", "rangle": "⟩", "ldots": "…", "dots": "…", "cdots": "⋯", "partial": "∂", "land": "∧",
    "lor": "∨", "neg": "¬", "forall": "∀", "exists": "∃", "cup": "∪", "cap": "∩", "subset": "⊂",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "quad": "\u2003", "qquad": "\u2003\u2003", ",": "\u2009", ";": " ", ":": " ", "!": "", " ": " ",
    "{": "{", "}": "}", "%": "%", "_": "_", "&": "&amp;", "#": "#", "$": "$", "\\": "<br>",
}
WORDS = {"min", "max", "exp", "log", "ln", "sin", "cos", "tan", "arg", "lim", "sup", "inf", "det", "Pr"}
TEXT = {"text", "mathrm", "textrm", "operatorname", "mathit", "textit", "mathbf", "textbf", "mathsf", "texttt"}
ACCENTS = {"bar": "\u0304", "overline": "\u0304", "hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303",
           "dot": "\u0307", "vec": "\u20d7"}
SIZES = {"big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "left", "right",
         "displaystyle", "textstyle", "limits", "nolimits"}


class _Reader:
    def __init__(self, text: str):
        self.s, self.i = text, 0

    def done(self) -> bool:
        return self.i >= len(self.s)

    def group(self) -> str:
        """The next argument: a {...} group, a command, or one character."""
        while not self.done() and self.s[self.i] == " ":
            self.i += 1
        if self.done():
            return ""
        if self.s[self.i] == "{":
            depth, start = 0, self.i
            while not self.done():
                c = self.s[self.i]
                if c == "\\":
                    self.i += 2
                    continue
                depth += c == "{"
                depth -= c == "}"
                self.i += 1
                if depth == 0:
                    return self.s[start + 1:self.i - 1]
            return self.s[start + 1:]
        if self.s[self.i] == "\\":
            name = self.command()
            return "\\" + name
        self.i += 1
        return self.s[self.i - 1]

    def command(self) -> str:
        """Read a command name after a backslash."""
        self.i += 1
        m = re.match(r"[A-Za-z]+", self.s[self.i:])
        if m:
            self.i += m.end()
            return m.group(0)
        if self.done():
            return ""
        self.i += 1
        return self.s[self.i - 1]


def latex_to_html(tex: str) -> str:
    """A readable HTML rendering of a LaTeX formula (a common subset)."""
    r, out = _Reader(tex), []
    while not r.done():
        c = r.s[r.i]
        if c == "\\":
            name = r.command()
            if name in TEXT:  # text as it is, but for TeX's escaped characters (\_ \% \& \# \$ \{ \})
                out.append(html.escape(re.sub(r"\\([_%&#${} ])", r"\1", r.group())))
            elif name in ("frac", "tfrac", "dfrac"):
                a, b = latex_to_html(r.group()), latex_to_html(r.group())
                wrap = lambda x: x if re.fullmatch(r"[\w.·]+", x) else f"({x})"  # noqa: E731
                out.append(f"{wrap(a)}/{wrap(b)}")
            elif name == "sqrt":
                out.append(f"√({latex_to_html(r.group())})")
            elif name in ACCENTS:
                out.append(latex_to_html(r.group()) + ACCENTS[name])
            elif name in ("mathrel", "mathop", "mathbin", "boldsymbol"):
                out.append(latex_to_html(r.group()))
            elif name == "bmod":
                out.append(" mod ")
            elif name in SIZES:
                pass
            elif name in SYMBOLS:
                out.append(SYMBOLS[name])
            elif name in WORDS:
                out.append(f"{name}\u2009")
            else:
                out.append(html.escape(name))
        elif c in "_^":
            r.i += 1
            tag = "sub" if c == "_" else "sup"
            out.append(f"<{tag}>{latex_to_html(r.group())}</{tag}>")
        elif c == "{":
            out.append(latex_to_html(r.group()))
        elif c == "}":
            r.i += 1
        elif c == "~":
            r.i += 1
            out.append(" ")
        else:
            r.i += 1
            out.append(html.escape(c))
    return "".join(out)


# Inline formulas as in pandoc: the opening $ has a character other than a space on its right, the
# closing $ one on its left and no letter or digit after it ("share$)$" is a formula, "$ 5" is not).
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?=[^\s$])([^$]+?)(?<=[^\s\\])\$(?![\w$])", re.S)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def markdown_html(text: str) -> str:
    """Markdown to HTML: tables, heading anchors, formulas as plain HTML."""
    formulas: list[str] = []

    def keep(match: re.Match) -> str:
        display, inline = match.group(1), match.group(2)
        body = latex_to_html((display if display is not None else inline).strip())
        if display is not None:
            formulas.append(f'<div class="ics-math ics-math-display">{body}</div>')
        else:
            formulas.append(f'<span class="ics-math">{body}</span>')
        return f"ICSMATH{len(formulas) - 1}ICSMATH"

    # formulas outside code spans become placeholders the Markdown parser leaves alone
    parts = _CODE.split(text)
    text = "".join(part if k % 2 else _MATH.sub(keep, part) for k, part in enumerate(parts))
    try:
        import markdown
    except ImportError:  # pragma: no cover - markdown ships with solara's extras
        body = f"<pre style='white-space: pre-wrap'>{html.escape(text)}</pre>"
    else:
        body = markdown.markdown(text, extensions=["tables", "sane_lists", "toc", "fenced_code"])
    return re.sub(r"ICSMATH(\d+)ICSMATH", lambda m: formulas[int(m.group(1))], body)
