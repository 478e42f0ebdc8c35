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
