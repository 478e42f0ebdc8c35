"""Masking of complainants' personal data (names, phone, ID, bank card, plate numbers, e-mail).

Pure functions, applied at intake so that nothing past it (Kafka, Redis, screens, logs,
notifications) ever holds the unmasked value:

* :func:`fold` turns full-width and other non-ASCII digits (``１３８…``, ``①``) into ASCII
  digits, as NFKC does, so that a number cannot hide from the patterns below;
* :func:`mask_text` masks ID numbers (18 and 15 digits, X check digit), bank cards, mobile
  numbers written with ``. - ( )`` or spaces between the groups, landlines, plates, e-mail,
  the names it is given and names announced in the text (``我叫王小明``, ``联系人：李大伟``);
* :func:`mask_contact` masks a contact in any shape (an object with any keys, a plain
  string) and :func:`contact_names` finds the names in it, to be masked in every other field;
* :func:`mask_value` masks every string (keys too) of a nested JSON value, iteratively and
  depth-bounded: what dead-letter records show of a rejected input;
* :func:`strip_controls` removes C0/C1 control and Unicode format characters (zero-width,
  bidi overrides: category Cf), and :func:`quote` is how an error message may show a value.

Nothing here recurses, so a value nested a thousand levels deep cannot exhaust the stack.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_DEPTH = 32          # deeper JSON is refused at intake (streams.schema) and cut here

# -- normalisation -------------------------------------------------------------------------

# Non-ASCII digits (any Unicode decimal digit), super/subscript and circled digits, and the
# full-width forms of + - . @ and the Latin letters (e-mail, plates).
# ([^\D0-9] is a digit that is not 0-9: one set test, where (?![0-9])\d cost ~3x as much.)
_FOLDED_FORMS = (r"[\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089\u2460-\u24ff\u2776-\u2793"
                 r"\uff0b\uff0d\uff0e\uff20-\uff3a\uff41-\uff5a]")
_FOLD = re.compile(r"[^\D0-9]|" + _FOLDED_FORMS)
# the same as two plain sets, each searched on its own: faster than their alternation when,
# as in most texts, neither occurs
_OTHER_DIGIT = re.compile(r"[^\D0-9]").search
_FOLDED_FORM = re.compile(_FOLDED_FORMS).search


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    n = unicodedata.normalize("NFKC", c)
    if n.isascii():
        return n
    try:
        return str(unicodedata.decimal(c))
    except ValueError:
        return c


def _fold_match(m: re.Match) -> str:
    return _fold_char(m.group(0))


def fold(text: str) -> str:
    """Digits of any script (full-width １３８, ①, ²) as ASCII digits; full-width Latin letters
    and ＋－．＠ as ASCII. Chinese punctuation (，（）：) is left as written."""
    if not text or text.isascii() or (_OTHER_DIGIT(text) is None and _FOLDED_FORM(text) is None):
        return text
    return _FOLD.sub(_fold_match, text)


# C0 and C1 controls, and every Unicode format character (category Cf: soft hyphen, zero-width
# space/joiners, bidi marks, overrides and isolates, BOM, interlinear annotation, tag characters).
_CF = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
       "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
       "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_CONTROL_ALL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + _CF + "]+")
_CONTROL_KEEP_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + _CF + "]+")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")
_ALL_WHITE_CONTROLS = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + _CF + "]")


def strip_controls(text: str, multiline: bool = False) -> str:
    """``text`` without control and format characters.

    ``multiline`` keeps line breaks (CR LF, CR, U+2028 become ``\\n``) and tabs; otherwise
    line breaks and tabs become a space and everything else of Cc/Cf is removed.
    """
    if not text:
        return text
    # every character removed here is non-printable to str.isprintable (a test holds this for
    # every code point), which is ~6x cheaper than the search below on a text without any
    if text.isprintable() or _ANY_CONTROL.search(text) is None:
        return text
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
        return _CONTROL_KEEP_LINES.sub("", text)
    return _CONTROL_ALL.sub("", _ALL_WHITE_CONTROLS.sub(" ", text))


# -- patterns ------------------------------------------------------------------------------

_S = r"[ \u00a0\u3000.\-]"                       # what people put between digit groups
# Order matters: the longest digit runs first, so an ID number is not read as a phone.
_ID18 = re.compile(r"(?<![0-9])([1-9]\d{5})[ \-]?(\d{8})[ \-]?(\d{3}[0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{6})(\d{3})(?![0-9])")
_BANK = re.compile(r"(?<![0-9])\d(?:[ \-]?\d){15,18}(?![0-9])")
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86" + _S + r"{0,2}|[(（](?:\+|00)?86[)）]" + _S + r"{0,2})?"
    r"[(（]?(1[3-9]\d)[)）]?" + _S + r"{0,2}(\d{4})" + _S + r"{0,2}(\d{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])[(（]?(0\d{2,3})[)）]?" + _S + r"{0,2}(\d{3,4})" + _S + r"?(\d{4})(?![0-9])")
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])[·• ]?"
                    r"([A-HJ-NP-Z0-9]{4,5})([A-HJ-NP-Z0-9挂学警港澳])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*(@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_NUMBERS = (_ID18, _ID15, _BANK, _MOBILE, _LANDLINE, _PLATE, _EMAIL)
# a text without 7 digits (separators allowed), a plate start or '@' has nothing for them
_MAY_HOLD_NUMBER = re.compile(r"\d(?:" + _S + r"{0,2}[()（）]?\d){6}|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]|@")

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A name announced in the text: 我叫王小明, 姓名：李大伟, 联系人是张三. A role word counts only with
# a colon or 是/为 after it ("投诉人在商场购买…", "来电人咨询…" announce no name), and the name
# must start with a common family name.
_ROLE_CUE = "本人姓名|姓名|联系人|投诉人|举报人|申诉人|反映人|来电人|当事人|消费者"
_NAME_CUE = re.compile(r"(?:我叫|名叫|我的名字是|我的名字叫|(?:" + _ROLE_CUE + r")\s*(?:[:：]|是|为))"
                       r"\s*([" + _HAN + r"][" + _HAN + r"·]{1,5})")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕"
    "单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚"
    "娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池"
    "查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴"
    "盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况"
    "那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "上东皇长宇轩令端独西百")
# A sole trader named after its owner (个体户王小明, 经营者：李四): a person's name standing alone,
# two or three characters, not the first characters of a shop name (个体户张记面馆 stays).
_OWNER_CUE = re.compile(r"(?:个体工商户|个体户|经营者|业主|店主)\s*[:：]?\s*([" + _HAN + r"]{2,3})(?![" + _HAN + r"])")
# Every match of _NAME_CUE holds one of these words (我叫/名叫/名字叫: 叫; 我的名字是: 名字; a role
# word), every match of _OWNER_CUE one of those (个体工商户 and 个体户: 个体).
_NAME_CUE_WORDS = ("叫", "名字", *_ROLE_CUE.split("|"))
_OWNER_CUE_WORDS = ("个体", "经营者", "业主", "店主")
_HAS_NAME_CUE = re.compile("|".join(map(re.escape, _NAME_CUE_WORDS))).search
_HAS_OWNER_CUE = re.compile("|".join(map(re.escape, _OWNER_CUE_WORDS))).search
# Characters that end a name found by a cue (王小明电话… -> 王小明, 李四在… -> 李四).
_AFTER_NAME = set("电手联身住在家的是，从于今昨去买向要反投举因和与给说称等先女号地邮微及也了就还")
_FILLERS = ("我的名字叫", "我的名字是", "本人姓名", "我叫", "名叫", "我是", "本人", "姓名", "名字", "联系人", "投诉人",
            "举报人", "申诉人", "反映人", "来电人", "称呼", "是", "为")
_SEGMENT = re.compile(r"[" + _HAN + r"][" + _HAN + r"·]*|[A-Za-z][A-Za-z'\-]*(?: [A-Za-z][A-Za-z'\-]*){0,3}")


def _cut_name(s: str) -> str:
    for i in range(2, len(s)):
        if s[i] in _AFTER_NAME:
            return s[:i]
    return s


def names_in_text(text: str) -> tuple[str, ...]:
    """Names the text announces (我叫…, 姓名：…, 联系人…), two to six characters each."""
    if not text:
        return ()
    out = []
    # the patterns run only on a text holding one of their cue words (a search for the words
    # alone, which the regex engine scans by their first characters: ~0.6 µs on a 190-character
    # text; _NAME_CUE's own search through a text without a cue cost ~4 µs)
    if _HAS_NAME_CUE(text) is not None:
        for m in _NAME_CUE.finditer(text):
            n = _cut_name(m.group(1)).rstrip("·")
            if len(n) >= 2 and n[0] in _SURNAMES and n not in out:
                out.append(n)
    if _HAS_OWNER_CUE(text) is not None:
        for m in _OWNER_CUE.finditer(text):
            n = m.group(1)
            if n[0] in _SURNAMES and n not in out:
                out.append(n)
    return tuple(out)


# -- masking -------------------------------------------------------------------------------

def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; keeps the family-name character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", fold(phone or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str) -> str:
    v = re.sub(r"\s", "", fold(value or ""))
    if len(v) <= 5:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 5) + v[-2:]


def _mask_card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


# Every match of _ID18, _ID15, _BANK, _MOBILE and _LANDLINE starts with a digit, '(', '（' or '+',
# holds only digits, X/x, the separators of _S, parentheses and '+', and is at least 10
# characters long (a landline: 3 + 3 + 4 digits); their look-arounds only ask "is the next
# character a digit?". So they can match only inside a run like _NUMBER_RUN, which one fast scan
# finds, and masking each run alone, in the same order, gives the same text as running the five
# patterns over the whole text (15 µs for _MOBILE alone on a 190-character text, because its
# optional prefix leaves the regex engine no first character to look for).
_NUMBER_RUN = re.compile(r"[\d(（+][\d \u00a0\u3000.\-()（）+Xx]{9,}")


def _mask_number_run(s: str) -> str:
    s = _ID18.sub(lambda m: m.group(1)[:3] + "*" * 13 + m.group(3)[-2:], s)
    s = _ID15.sub(lambda m: m.group(1)[:3] + "*" * 10 + m.group(3)[-2:], s)
    s = _BANK.sub(_mask_card, s)
    s = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), s)
    return _LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), s)


def _mask_numbers(t: str) -> str:
    out: list[str] = []
    last = 0
    for m in _NUMBER_RUN.finditer(t):
        run = m.group()
        masked = _mask_number_run(run)
        if masked != run:
            out += (t[last:m.start()], masked)
            last = m.end()
    if out:
        out.append(t[last:])
        t = "".join(out)
    t = _PLATE.sub(lambda m: m.group(1) + m.group(2) + "***" + m.group(4), t)
    # an e-mail address has an '@' (a substring test costs next to nothing)
    return _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), t) if "@" in t else t


def mask_text(text: str, names: tuple[str, ...] = ()) -> str:
    """Mask PII found in free text: ID, bank card, phone numbers, plates, e-mail, the given
    names and names the text announces. Digits are folded to ASCII first (see :func:`fold`)."""
    if not text:
        return text
    t = _mask_numbers(fold(text))
    found = names_in_text(t)
    all_names = {n.strip() for n in (*names, *found) if n and len(n.strip()) >= 2}
    for n in sorted(all_names, key=len, reverse=True):
        if n in t:
            t = t.replace(n, mask_name(n))
    return t


def quote(value, names: tuple[str, ...] = (), limit: int = 40) -> str:
    """How an error message may show a value: masked, without control characters, cut to
    ``limit`` characters, in repr quotes. Containers are named by type, never rendered."""
    if isinstance(value, (dict, list, tuple, set)):
        return f"(a {type(value).__name__})"
    s = value if isinstance(value, str) else str(value)
    # mask before cutting, so a number straddling the cut is not left half-visible; repr
    # shows control and format characters as escapes (\n, \x1b, \u202e)
    shown = mask_text(s[: limit * 5], names)
    if len(shown) > limit:
        shown = shown[:limit] + "…"
    return repr(shown)


# -- contacts ------------------------------------------------------------------------------

_ROLE_WORDS = (
    ("id_number", ("身份", "证件", "证号", "id_number", "id_card", "idcard", "id_no", "identity", "passport", "护照")),
    ("phone", ("电话", "手机", "号码", "联系方式", "phone", "mobile", "tel", "cell", "fax", "传真", "whatsapp", "wechat", "微信", "qq")),
    ("email", ("mail", "邮箱", "邮件")),
    ("address", ("地址", "住址", "address", "addr", "住所", "小区")),
    ("name", ("名", "人", "name", "称呼", "先生", "女士", "who", "person", "contact")),
)
_PHONE_SHAPE = re.compile(r"[+(（]?[\d][\d ()（）.\-\u00a0\u3000+]{5,}")


@lru_cache(maxsize=1024)
def _role_of_key(key) -> str | None:
    k = str(key).lower()
    for role, words in _ROLE_WORDS:
        if any(w in k for w in words):
            return role
    return None


def _role_of_value(v: str) -> str:
    if _ID18.fullmatch(v) or _ID15.fullmatch(v):
        return "id_number"
    if _PHONE_SHAPE.fullmatch(v):
        return "phone"
    if _EMAIL.fullmatch(v):
        return "email"
    if _name_candidates(v) and len(v) <= 12:
        return "name"
    return "note"


_FILLER_RX = re.compile("^(?:" + "|".join(sorted(_FILLERS, key=len, reverse=True)) + ")+")


@lru_cache(maxsize=4096)
def _name_candidates(value: str) -> tuple[str, ...]:
    """Names in a contact value: 王小明 / 我叫王小明 / 王小明 13812345678 / 联系人李大伟电话… ."""
    v = fold(strip_controls(value))
    if _MAY_HOLD_NUMBER.search(v):
        for rx in _NUMBERS:
            v = rx.sub(" ", v)
    v = v.replace("*", " ")
    cued = names_in_text(v)
    if cued:
        return cued
    out: list[str] = []
    for seg in _SEGMENT.findall(v):
        seg = _FILLER_RX.sub("", seg) or seg
        seg = _cut_name(seg) if seg[:1] > "\u2fff" and len(seg) > 3 else seg
        if 2 <= len(seg) <= (6 if seg[:1] > "\u2fff" else 40) and seg not in out:
            out.append(seg)
    return tuple(out)


_FIVE_DIGITS = re.compile(r"\d(?:[ .\-]?\d){4}")


def _is_masked(v: str) -> bool:
    """Already masked by this module (138****5678, 张*): holds '*' and no run of 5 digits."""
    return "*" in v and _FIVE_DIGITS.search(v) is None


def _leaves(contact):
    """(key, string) leaves of a contact in any shape, iteratively and depth-bounded."""
    if isinstance(contact, str):
        s = strip_controls(contact).strip()
        return [(None, s)] if s else []
    if isinstance(contact, dict) and all(type(v) is str for v in contact.values()):   # the usual shape
        return [(k, s) for k, v in contact.items() if k != "masked" and (s := strip_controls(v).strip())]
    stack = [(None, contact, 0)]
    out = []
    while stack and len(out) < 200:
        key, v, d = stack.pop()
        if isinstance(v, dict):
            if d < MAX_DEPTH:
                stack.extend((k, x, d + 1) for k, x in reversed(list(v.items())) if k != "masked")
        elif isinstance(v, (list, tuple)):
            if d < MAX_DEPTH:
                stack.extend((key, x, d + 1) for x in reversed(v))
        elif isinstance(v, bool) or v is None:
            continue
        elif isinstance(v, (str, int, float)):
            s = strip_controls(str(v)).strip()
            if s:
                out.append((key, s))
        # anything else (bytes from a custom caller) carries nothing to show
    return out


def contact_names(contact) -> tuple[str, ...]:
    """The names a contact holds, under any key or as a plain string (and a key that maps a
    name to a number, ``{"王小明": "138…"}``); to be masked in every other field."""
    if contact in (None, "", {}, []):
        return ()
    names: list[str] = []
    for key, s in _leaves(contact):
        # a masked value (张*, 138****5678) yields no candidate: '*' splits it into single characters
        if key is None:
            names += _name_candidates(s)
            continue
        by_key = _role_of_key(key) if isinstance(key, str) else None
        role = by_key or _role_of_value(fold(s))
        if role == "name":
            names += _name_candidates(s)
        elif role in ("phone", "id_number", "email") and by_key is None and isinstance(key, str):
            names += _name_candidates(key)
    return tuple(dict.fromkeys(names))


def _mask_leaf(role: str, s: str, names: tuple[str, ...]) -> str:
    if _is_masked(s) and mask_text(s, names) == s:
        return s
    s = fold(s)
    if role == "phone":
        return mask_phone(s) if _PHONE_SHAPE.fullmatch(s) else mask_text(s, names)
    if role == "id_number":
        return mask_id_number(s) if re.fullmatch(r"[\dXx \-]+", s) else mask_text(s, names)
    if role == "name":
        cands = _name_candidates(s)
        if cands and "".join(cands) == re.sub(r"[\s·]", "", s):
            return "、".join(mask_name(c) for c in cands)
        masked = mask_text(s, (*names, *cands))
        return masked if cands or masked != s else mask_name(s)
    return mask_text(s, names)


def mask_contact(contact, names: tuple[str, ...] = (), names_complete: bool = False) -> dict:
    """A complainant's contact masked, whatever its shape: an object with any keys
    (``{"联系人": "李大伟", "电话": "(138)1234-5678"}``), nested or not, or a bare string
    (``"我叫王小明 13812345678"``).

    The result has only the keys name, phone, id_number, email, address and note (the
    input's keys are not kept: a key may itself be a name), only ever masked values, and
    ``masked: True``. Masking a masked contact again changes nothing. ``names_complete``:
    ``names`` already holds :func:`contact_names` (the caller found them), not found again.
    """
    if contact in (None, "", {}, []):
        return {}
    if not names_complete:
        names = (*names, *contact_names(contact))
    out: dict = {"masked": True}

    def put(role: str, value: str) -> None:
        if not value:
            return
        if role not in out:
            out[role] = value
        elif value not in out[role].split("、"):
            out[role] += "、" + value

    for key, s in _leaves(contact):
        if key is None:                            # a bare string: its numbers and its names
            t = fold(s)
            if _is_masked(t) and mask_text(t, names) == t:
                put("note", t)
                continue
            for m in _MOBILE.finditer(t):
                put("phone", mask_phone(m.group(0)))
            for m in (*_ID18.finditer(t), *_ID15.finditer(t)):
                put("id_number", mask_id_number(m.group(0)))
            for m in _EMAIL.finditer(t):
                put("email", _mask_numbers(m.group(0)))
            cands = _name_candidates(t)
            for c in cands:
                put("name", mask_name(c))
            if len(out) == 1:                      # nothing recognised: shown only masked
                put("note", mask_text(t, names) if len(t) > 12 else mask_name(t))
            continue
        role = (_role_of_key(key) if isinstance(key, str) else None) or _role_of_value(fold(s))
        put(role, _mask_leaf(role, s, names))
    return out


# -- whole values --------------------------------------------------------------------------

def _contacts_within(value) -> tuple[str, ...]:
    names: list[str] = []
    stack = [(value, 0)]
    seen = 0
    while stack and seen < 5000:
        v, d = stack.pop()
        seen += 1
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "contact":
                    names += contact_names(x)
                elif d < MAX_DEPTH and isinstance(x, (dict, list)):
                    stack.append((x, d + 1))
        elif isinstance(v, list) and d < MAX_DEPTH:
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return tuple(dict.fromkeys(names))


CUT = "…(nested too deep)"
MAX_STRING = 2000


def mask_value(value, names: tuple[str, ...] = (), max_nodes: int = 5000, max_chars: int = 1 << 20):
    """A copy of a JSON value with every string masked (keys too), numbers that hold a phone
    or ID masked as strings, control characters removed; names from any ``contact`` within
    are masked everywhere. Iterative: containers deeper than MAX_DEPTH become a marker, and
    after ``max_nodes`` values or ``max_chars`` characters of strings (in document order)
    the rest is left out ("…")."""
    names = (*names, *_contacts_within(value))
    budget = [max_chars]

    def scalar(v):
        if isinstance(v, str):
            if budget[0] <= 0:
                return "…"
            budget[0] -= len(v)
            s = v if len(v) <= MAX_STRING + 64 else v[:MAX_STRING + 64]
            out = mask_text(strip_controls(s, multiline=True), names)
            return out if len(v) <= MAX_STRING + 64 else out[:MAX_STRING] + f"…(+{len(v) - MAX_STRING} chars)"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            s = str(v)
            m = _mask_numbers(s)
            return v if m == s else m
        if v is None or isinstance(v, bool):
            return v
        return scalar(str(v)) if not isinstance(v, (bytes, bytearray)) else scalar(bytes(v).decode("utf-8", "replace"))

    if not isinstance(value, (dict, list, tuple)):
        return scalar(value)
    root: list = [None]
    # (source, container to fill, key/index in it, depth)
    stack = [(value, root, 0, 1)]
    nodes = 0
    while stack:
        v, parent, slot, d = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            parent[slot] = "…"
            continue
        if isinstance(v, dict):
            if d > MAX_DEPTH:
                parent[slot] = CUT
                continue
            new: dict = {}
            parent[slot] = new
            todo = []
            for k, x in v.items():
                mk = scalar(k) if isinstance(k, str) else str(k)
                while mk in new:
                    mk += "'"
                new[mk] = None
                todo.append((x, new, mk, d + 1))
            stack.extend(reversed(todo))
        elif isinstance(v, (list, tuple)):
            if d > MAX_DEPTH:
                parent[slot] = CUT
                continue
            new_l: list = [None] * len(v)
            parent[slot] = new_l
            stack.extend((x, new_l, i, d + 1) for i, x in reversed(list(enumerate(v))))
        else:
            parent[slot] = scalar(v)
    return root[0]


# -- logs ----------------------------------------------------------------------------------

def install_log_masking() -> None:
    """Mask every log record this process makes, whoever logs it (our code, faust, uvicorn):
    the formatted message and any traceback go through :func:`mask_text` and lose control
    characters (a terminal escape in an input cannot reach a log). Idempotent."""
    import logging
    import traceback

    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_pii", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit is left to logging
            return record
        safe = mask_text(strip_controls(message, multiline=True))
        if safe != message or record.args:
            record.msg, record.args = safe, ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = mask_text(strip_controls(text, multiline=True))
        return record

    factory.masks_pii = True
    logging.setLogRecordFactory(factory)
