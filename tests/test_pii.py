from nlp.pii import mask_contact, mask_name, mask_phone, mask_text


def test_contact_is_masked_field_by_field():
    m = mask_contact({"name": "欧阳娜娜", "phone": "+86 138-1234-5678", "id_number": "14040319900101123X"})
    assert m == {"masked": True, "name": "欧***", "phone": "138****5678", "id_number": "140*************3X"}
    assert mask_contact("13812345678") == {"phone": "138****5678", "masked": True}
    assert mask_contact("李四") == {"name": "李*", "masked": True}


def test_free_text_loses_numbers_and_names_but_keeps_the_complaint():
    t = mask_text("我叫张三丰，电话13812345678，身份证14040319900101123X，卡号6222 0212 3456 7890 123，"
                  "车牌晋D12345，座机0355-2123456，衣服掉色，金额299元", names=("张三丰",))
    for secret in ("张三丰", "13812345678", "14040319900101123X", "6222021234567890123", "晋D12345", "2123456"):
        assert secret not in t.replace(" ", "")
    assert "衣服掉色" in t and "299元" in t and "138****5678" in t


def test_short_values():
    assert mask_name("") == "" and mask_name("王") == "王*"
    assert mask_phone("12345") == "*****"


def test_full_width_digits_and_separators():
    for written in ("１３８１２３４５６７８", "138.1234.5678", "(138)1234-5678", "138 1234 5678"):
        assert mask_text(f"电话{written}。") == "电话138****5678。", written


def test_contact_under_any_key_or_as_a_sentence():
    assert mask_contact({"联系人": "李大伟"}) == {"masked": True, "name": "李**"}
    assert mask_contact("我叫王小明，13812345678") == {"masked": True, "phone": "138****5678", "name": "王**"}
    assert mask_text("王小明说李大伟也来过", names=("王小明", "李大伟")) == "王**说李**也来过"


# -- the prechecks that keep masking cheap (nlp.pii: _NUMBER_RUN, cue words, fold's two sets) --

def _numbers_everywhere(t: str) -> str:
    """The seven number patterns run over the whole text, in order: what _mask_numbers must equal."""
    from nlp import pii

    t = pii._ID18.sub(lambda m: m.group(1)[:3] + "*" * 13 + m.group(3)[-2:], t)
    t = pii._ID15.sub(lambda m: m.group(1)[:3] + "*" * 10 + m.group(3)[-2:], t)
    t = pii._BANK.sub(pii._mask_card, t)
    t = pii._MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), t)
    t = pii._LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), t)
    t = pii._PLATE.sub(lambda m: m.group(1) + m.group(2) + "***" + m.group(4), t)
    return pii._EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), t)


def test_masking_number_runs_alone_is_masking_the_whole_text():
    import random

    from nlp import pii
    from nlp.bench import real_texts

    rnd = random.Random(12315)
    alphabet = "0123456789" * 3 + " -.()（）+Xx\u3000\u00a0号电话晋Aa@q.c"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 70))) for _ in range(20000)]
    texts += ["话" + "".join(rnd.choice("0123456789 -.()（）+") for _ in range(rnd.randrange(8, 30))) + "号"
              for _ in range(20000)]
    texts += real_texts()[:300]
    for t in texts:
        assert pii._mask_numbers(t) == _numbers_everywhere(t), t


def test_numbers_are_masked_wherever_their_run_starts_or_ends():
    cases = {
        "13812345678": "138****5678",                               # the whole text
        "电话:13812345678号": "电话:138****5678号",
        "+86 138 1234 5678。": "138****5678。",
        "0086-13812345678，": "138****5678，",
        "（+86）138-1234-5678": "138****5678",
        "X13812345678x": "X138****5678x",                            # run chars that match nothing
        "座机(0351)1234567": "座机0351-***4567",
        "座机（0351）123-4567": "座机0351-***4567",
        "身份证14040319900101123X号": "身份证140*************3X号",
        "卡号6222 0212 3456 7890 123止": "卡号6222***********0123止",
    }
    for text, masked in cases.items():
        assert mask_text(text) == masked, text


def test_digits_and_forms_of_other_scripts_are_still_folded_and_masked():
    assert mask_text("电话١٣٨١٢٣٤٥٦٧٨") == "电话138****5678"            # Arabic-Indic digits
    assert mask_text("电话①③⑧１２３４５６７８") == "电话138****5678"      # circled and full-width
    assert mask_text("邮箱ａｂｃ＠ｑｑ．ｃｏｍ") == "邮箱a***@qq.com"        # a full-width '@'
    assert mask_text("x²") == "x2" and mask_text("价格１２元") == "价格12元"


def test_every_name_cue_still_finds_its_name():
    from nlp.pii import _NAME_CUE_WORDS, _ROLE_CUE, names_in_text

    for cue in ("我叫", "名叫", "我的名字是", "我的名字叫"):
        assert names_in_text(f"投诉：{cue}王小明，鞋子开胶") == ("王小明",), cue
    for role in _ROLE_CUE.split("|"):
        assert names_in_text(f"{role}：李大伟，电话另告") == ("李大伟",), role
        assert mask_text(f"{role}为李大伟。") == f"{role}为李**。", role
    for owner in ("个体工商户", "个体户", "经营者", "业主", "店主"):
        assert names_in_text(f"{owner}：张小强，卖的羊肉不新鲜") == ("张小强",), owner
        assert mask_text(f"{owner}张小强") == f"{owner}张**", owner
    assert names_in_text("投诉人在商场购买的鞋子开胶") == () and "叫" in _NAME_CUE_WORDS


def test_every_character_strip_controls_removes_is_non_printable():
    """strip_controls returns a printable text at once (str.isprintable): sound only while no
    character it removes is printable, on this Python's Unicode tables."""
    from nlp.pii import _ANY_CONTROL, strip_controls

    removed = [chr(c) for c in range(0x110000) if _ANY_CONTROL.match(chr(c))]
    assert len(removed) > 100 and not any(ch.isprintable() for ch in removed)
    for ch in ("\u200b", "\u202e", "\u00ad", "\ufeff", "\x1b", "\x85", "\u2028", "\U000e0041"):
        expected = "鞋子 开胶" if ch in "\x85\u2028" else "鞋子开胶"      # line breaks become a space
        assert strip_controls(f"鞋子{ch}开胶") == expected, repr(ch)
    assert strip_controls("鞋子开胶，商家不退") == "鞋子开胶，商家不退"
