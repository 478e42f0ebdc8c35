"""Words and templates the simulator builds complaint texts from (data only, no logic).

Template grammar, expanded by ``streams.simgen.expand``:
  ``{slot}``       a value drawn from the slot's list (once per complaint: the same slot
                   twice in one text is the same word);
  ``{a|b|c}``      one of the alternatives, drawn each time;
  ``[text]``       optional, kept half of the time.
``{merchant:k1,k2}`` is a merchant of one of those kinds (``MERCHANT_KINDS``); plain
``{merchant}`` one of the industry's kinds. Values may themselves hold slots. Special slots filled by the generator: ``merchant``,
``amount`` (or ``amount:LO-HI`` yuan), ``small``, ``phone``, ``name``, ``date``, ``scenic``, ``county``, ``city``.

Texts follow the complaints the reports quote: object + problem + demand, in the words of a
consumer, with the keywords the bureaus' keyword clouds show (衣服掉色、更换难、价格不合理、
电器质量差、预付卡退费难、外卖异物、电池鼓包、以次充好、强制消费、虚假宣传、里程造假).
"""
from __future__ import annotations

# --- who and when ----------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕"
            "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江"
            "史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文牛温樊靳闫")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海波宇浩然凯鹏"
         "晓东雪梅丹慧欣怡俊峰鑫宏亮晨阳佳琪子涵思远瑞雨婷燕春林")

# Invented shop "brands": plausible, and not the names of real chains.
BRANDS = ("鑫源 金鼎 福缘 宏达 佳佳 汇通 百姓 惠民 顺发 兴隆 永盛 聚丰 利民 天和 恒信 鼎盛 盛世 "
          "万家 家和 好运 乐购 新世纪 华晋 晋丰 三晋 太行 汾河 龙城 凤凰 丰泽 祥和 瑞丰 众鑫 乐活 "
          "新天地 金帝 东方 嘉禾 美佳 优品 德润 泰和 喜来 宏运 安康 康宁 诚信 金利 阳光 鸿福 "
          "锦华 博雅 和美 品尚 尚品 悦享 悦来 春天 名流 海悦 信达 宏泰 荣华 富源 欣欣 小蜜蜂 "
          "大拇指 红星 绿洲 晋韵 上品 一品 老街 新城 滨河 南关 北街").split()

# Merchant kind -> name endings. A county's pool mixes brand + ending, sometimes the place name.
MERCHANT_KINDS: dict[str, tuple[str, ...]] = {
    "supermarket": ("超市", "生活超市", "便利店", "平价超市", "连锁超市"),
    "mall": ("购物广场", "百货大楼", "商厦", "购物中心"),
    "restaurant": ("饭店", "大酒店", "面馆", "火锅店", "烧烤店", "快餐店", "刀削面馆", "羊汤馆", "餐厅"),
    "takeaway": ("黄焖鸡米饭", "麻辣烫", "炸鸡汉堡", "砂锅米线", "盖浇饭", "烧烤外卖", "奶茶店"),
    "bakery": ("蛋糕店", "烘焙坊", "面包房"),
    "pharmacy": ("大药房", "药店", "医药连锁店"),
    "medical": ("医疗器械店", "康复器材店", "助听器验配中心", "眼镜店", "健康体验馆"),
    "gym": ("健身会所", "健身房", "游泳健身馆", "瑜伽馆"),
    "beauty": ("美容院", "美发店", "养生馆", "美甲店", "皮肤管理中心"),
    "school": ("教育培训学校", "艺术培训中心", "驾校", "英语培训机构", "早教中心"),
    "laundry": ("洗衣店", "干洗店", "洗衣连锁店"),
    "service": ("婚纱摄影", "家政服务公司", "手机维修店", "通信营业厅", "快递站", "洗车店"),
    "online": ("旗舰店（网店）", "专营店（网店）", "直播间"),
    "car_dealer": ("汽车4S店", "汽车销售服务有限公司", "汽车城"),
    "used_car": ("二手车行", "二手车交易市场", "二手车经纪公司"),
    "garage": ("汽车修理厂", "汽修厂", "汽车服务中心"),
    "developer": ("房地产开发有限公司", "置业有限公司", "房地产公司"),
    "agency": ("房产中介", "房屋经纪公司", "地产经纪"),
    "decoration": ("装饰工程有限公司", "装饰设计公司", "家装公司"),
    "clothes": ("服装店", "服饰", "女装店", "童装店", "鞋店", "品牌折扣店"),
    "appliance": ("家电城", "电器商场", "家电卖场", "空调专卖店", "手机店"),
    "ebike": ("电动车专卖店", "电动车行", "电动车维修部"),
    "gold": ("金店", "珠宝", "黄金珠宝店", "银楼"),
    "furniture": ("家具城", "家居广场", "床垫专卖店", "全屋定制"),
    "hotel": ("宾馆", "快捷酒店", "大酒店", "民宿", "农家乐"),
    "travel": ("旅行社", "国际旅行社", "旅游服务有限公司"),
    "parking": ("停车场", "加油站", "停车管理公司"),
}

# Real scenic areas of Shanxi by county code; tourism complaints cluster around them.
SCENIC: dict[str, tuple[str, ...]] = {
    "140922": ("五台山", "五台山台怀镇"),
    "140728": ("平遥古城", "平遥县城墙"),
    "140214": ("云冈石窟",),
    "140213": ("大同古城", "华严寺"),
    "140225": ("悬空寺", "北岳恒山"),
    "140727": ("乔家大院",),
    "140729": ("王家大院", "红崖峡谷"),
    "140781": ("绵山",),
    "140522": ("皇城相府",),
    "141028": ("壶口瀑布",),
    "140110": ("晋祠", "天龙山"),
    "140881": ("鹳雀楼", "五老峰"),
    "140802": ("解州关帝庙", "运城盐湖"),
    "140923": ("雁门关",),
    "140622": ("应县木塔",),
    "140427": ("太行山大峡谷",),
    "141024": ("洪洞大槐树",),
    "141124": ("碛口古镇",),
    "140925": ("芦芽山",),
    "140524": ("王莽岭",),
    "140724": ("大寨",),
    "140429": ("八路军太行纪念馆",),
    "140932": ("老牛湾",),
    "140623": ("右玉生态旅游区",),
    "140405": ("老爷山",),
}

COMMON: dict[str, tuple[str, ...]] = {
    "when": ("上周", "前几天", "昨天", "今天上午", "昨天晚上", "上个月", "本月初", "半个月前", "前天下午",
             "上周末", "{days}天前", "{date}", "{date}", "国庆前", "春节期间", "去年年底"),
    "days": ("2", "3", "4", "5", "7", "10", "十几"),
    "qty": ("2", "3", "5", "6", "10", "12", "20"),
    "i": ("我", "我", "本人", "我家", "我和爱人"),
    "refuse": ("商家拒绝退货", "店家以各种理由推脱", "对方一直拖着不处理", "客服电话一直打不通", "商家态度恶劣，不予理睬",
               "店员说要找厂家，厂家又让找店里", "商家只同意维修不同意退换", "协商多次无果", "商家不认账",
               "找到店里，店长说这是正常现象", "商家答应退款后又反悔了", "对方说过了退换期", "商家说特价商品不退不换"),
    "demand": ("要求退货退款", "要求全额退款", "要求商家赔偿损失", "要求更换新品", "要求退一赔三", "要求商家给个说法",
               "请求12315帮忙调解", "希望市场监管部门督促商家退款", "要求退还剩余费用", "要求赔偿{amount}元",
               "请相关部门帮忙维权", "希望尽快解决"),
    "urge": ("请尽快处理", "望相关部门核实处理", "希望尽快给予答复", "恳请帮忙维权，谢谢", "希望能得到公正处理",
             "已经跑了好几趟，实在没办法才投诉", "希望监管部门管一管"),
    "ask": ("请问", "想咨询一下，", "您好，请问", "咨询：", "我想问下，", "你好，想了解一下，", "请问一下，"),
    "ask_tail": ("谢谢。", "麻烦告知一下。", "需要准备什么材料？", "应该找哪个部门？", "", "", "请回复。"),
    "proof": ("有购物小票", "有聊天记录和付款截图", "拍了照片和视频", "发票还在", "有合同", "保留了包装"),
    "history": ("之前已经找过商家三次", "打了十几个电话都没人管", "在平台上投诉过也没有结果", "和店长当面协商过",
                "拨打了厂家的售后电话", "等了一个多星期"),
    "deny": ("不承认是他们的问题", "推说与他们无关", "只愿意赔{small}元", "让我自己去鉴定", "一直不给答复"),
}

# Sentences appended to carry a phone number or a name (exercises PII masking downstream).
PHONE_TAILS = ("，联系电话{phone}", "。我的电话是{phone}", "，电话：{phone}，请回电", "。联系人{name}，手机{phone}",
               "，有事请打{phone}")

# --- industries ------------------------------------------------------------------------------
# Per industry: merchant kinds (weights follow order), amount range in yuan, slot lists and
# templates per kind of item (投诉 complaint, 举报 report, 咨询 enquiry).

INDUSTRIES: dict[str, dict] = {
    "食品": {
        "merchants": ("restaurant", "takeaway", "supermarket", "bakery"),
        "amount": (12, 800),
        "slots": {
            "food": ("外卖", "盒饭", "凉皮", "蛋糕", "面包", "熟食", "卤肉", "牛奶", "酸奶", "月饼", "火锅", "烤串",
                     "饮料", "速冻水饺", "零食", "刀削面", "过油肉", "烤鸭", "汉堡", "米线"),
            "foreign": ("头发", "苍蝇", "钢丝球的钢丝", "塑料片", "小虫子", "蟑螂", "指甲", "玻璃碴", "创可贴", "烟头"),
            "food_problem": ("里面有异物", "吃出了{foreign}", "有一股馊味", "已经发霉变质", "是过期的", "分量严重不足",
                             "吃完后{symptom}", "没熟，里面还是生的"),
            "symptom": ("上吐下泻", "肚子疼了一晚上", "腹泻不止", "一直呕吐", "去医院挂了急诊", "全家人都拉肚子"),
            "expired": ("已经过了保质期{days}天", "生产日期标注不清", "包装鼓胀，已经过期", "保质期被重新贴了标签"),
            "kitchen": ("后厨卫生脏乱差", "员工不戴口罩和帽子", "生熟食品混放", "老鼠到处跑", "餐具不消毒",
                        "食材直接放在地上", "冰箱里的肉都发臭了"),
            "bad_food": ("地沟油", "过期食材", "来源不明的冻肉", "病死猪肉", "工业用盐"),
        },
        "投诉": (
            "{when}在{merchant:restaurant,takeaway}点的{food}{food_problem}，{refuse}，{demand}。",
            "{when}通过外卖平台在{merchant:takeaway}订餐，{food}里{吃出|发现}了{foreign}，[拍了照片留存，]联系商家{refuse}，{demand}[，{urge}]。",
            "在{merchant:supermarket,bakery}购买的{food}{expired}，[{proof}，]{refuse}，{demand}。",
            "{when}和家人在{merchant:restaurant}吃饭，吃完后{symptom}，[医院诊断为急性肠胃炎，]花了医药费{amount}元，商家{deny}，{demand}。",
            "外卖有异物！{when}点了{merchant:takeaway}的{food}，{吃到一半|刚打开}就看到{foreign}，太恶心了，{demand}。",
            "{i}在{merchant:supermarket,bakery}买了{qty}盒{food}，回家发现{expired}，{refuse}，[{proof}，]{demand}。",
        ),
        "举报": (
            "举报{merchant:restaurant,takeaway,bakery}{kitchen}，[{when}亲眼看到，]请监管部门{尽快|}检查。",
            "举报{merchant:supermarket,bakery}销售过期{food}，{expired}，[货架上还有很多，]请依法查处。",
            "{merchant:restaurant,takeaway}无证经营，[没有营业执照和食品经营许可证，]{kitchen}，希望相关部门核查。",
            "举报{merchant:restaurant,takeaway}使用{bad_food}，[周边居民反映很久了，]请尽快查处，{urge}。",
        ),
        "咨询": (
            "{ask}在外卖里吃出{foreign}，应该找平台还是找商家？能要求赔偿吗？{ask_tail}",
            "{when}在{merchant:supermarket,bakery}买的{food}{expired}，{ask}可以要求{退一赔十|十倍赔偿|退一赔三}吗？{ask_tail}",
            "{ask}在{merchant:restaurant,takeaway}吃了{food}后{symptom}，医药费能让商家承担吗？怎么维权？",
            "{ask}食品的生产日期和保质期标注不清楚，算不算违法？[家里老人买了好几箱，]{ask_tail}",
            "{when}和朋友在{merchant:restaurant}吃饭，菜里吃出{foreign}，商家只给打八折。{ask}还能要求什么赔偿？",
            "{ask}自制的散装{food}没有标签，超市可以卖吗？{ask_tail}",
        ),
    },
    "药品": {
        "merchants": ("pharmacy",),
        "amount": (15, 6000),
        "slots": {
            "drug": ("感冒药", "降压药", "胃药", "阿莫西林", "布洛芬", "中药饮片", "眼药水", "止咳糖浆", "维生素片", "膏药"),
            "health": ("保健品", "鱼油", "蛋白粉", "灵芝孢子粉", "钙片", "“特效药”"),
            "drug_problem": ("已经过期{days}个月", "包装有破损", "批号和药盒上的不一致", "里面没有说明书",
                             "是拆零销售的，没有任何标识", "药片已经变色受潮"),
            "cure": ("治高血压", "根治糖尿病", "治好关节炎", "抗癌", "降三高", "彻底治好失眠"),
            "rx": ("抗生素", "处方药", "精神类药品"),
        },
        "投诉": (
            "{when}在{merchant}买的{drug}{drug_problem}，{refuse}，{demand}。",
            "{merchant}店员推荐{i}买了{amount:200-6000}元的{health}，说能{cure}，吃了一个月没有任何效果，{demand}。",
            "在{merchant}买药，{drug}比别家贵了一倍多，而且{drug_problem}，{demand}[，{urge}]。",
            "{when}给孩子买的{drug}回家发现{drug_problem}，幸好没吃，[{proof}，]{demand}。",
        ),
        "举报": (
            "举报{merchant}销售过期药品，{when}买的{drug}{drug_problem}，请依法查处。",
            "{merchant}处方药不凭处方销售，随便就能买到{rx}，存在安全隐患，请监管部门查处。",
            "举报{merchant}虚假宣传{health}能{cure}，专门骗老年人，[我家老人花了{amount}元，]请查处。",
        ),
        "咨询": (
            "{ask}在{merchant}买的{drug}没有拆封，能退吗？{ask_tail}",
            "{ask}药店处方药不要处方就卖，合法吗？[我看到有人随便就买了{rx}。]{ask_tail}",
            "{when}买的{drug}回家发现{drug_problem}，{ask}应该怎么处理，能要求赔偿吗？",
            "家里老人在{merchant}买了{amount}元的{health}，店员说能{cure}。{ask}这算不算虚假宣传？能退吗？",
        ),
    },
    "医疗器械": {
        "merchants": ("medical", "pharmacy", "online"),
        "amount": (30, 30000),
        "slots": {
            "device": ("血压计", "血糖仪", "助听器", "隐形眼镜", "护理床", "理疗仪", "按摩椅", "制氧机", "轮椅",
                       "医用口罩", "电子体温计", "足疗仪"),
            "device_problem": ("用了一周就坏了", "测量数据误差很大", "没有医疗器械注册证", "说明书全是外文",
                               "和宣传的功能完全不一样", "开机就报错", "是翻新机"),
            "event": ("免费体检", "健康讲座", "送鸡蛋", "免费领礼品", "专家义诊"),
            "cure": ("治腰椎病", "降血压", "治好老寒腿", "疏通血管", "治疗失眠"),
        },
        "投诉": (
            "{when}在{merchant}买了一台{device}，{device_problem}，{refuse}，{demand}。",
            "{merchant:medical}搞{event}活动，推销{device}说能{cure}，老人花了{amount}元买了，实际没有任何效果，{demand}。",
            "在{merchant:medical}配的{device}{device_problem}，[去了好几次，]{refuse}，{demand}[，{urge}]。",
        ),
        "举报": (
            "举报{merchant}销售无注册证的{device}，[产品上找不到注册证号，]请查处。",
            "举报{merchant:medical}以{event}为名向老年人高价推销{device}，虚假宣传能{cure}，{urge}。",
        ),
        "咨询": (
            "{ask}网上买的{device}没有医疗器械注册证，能退货吗？{ask_tail}",
            "{when}在{merchant}买的{device}{device_problem}，{ask}在保修期内商家不修怎么办？",
            "{ask}怎么查询{device}有没有医疗器械注册证？[父母在{event}活动上买了一台。]",
            "老人参加{merchant:medical}的{event}活动，花{amount}元买了{device}，{ask}这种情况能退吗？",
        ),
    },
    "商超": {
        "merchants": ("supermarket", "mall", "online"),
        "amount": (8, 3000),
        "slots": {
            "grocery": ("大米", "食用油", "洗衣液", "鸡蛋", "水果", "猪肉", "牛肉", "奶粉", "饮料", "纸巾", "洗发水",
                        "小米", "老陈醋", "蔬菜"),
            "shop_problem": ("结账时价格比标签贵了{small}元", "买的{grocery}回家发现已经变质", "会员卡积分被无故清零",
                             "促销说买一送一，结账时不认", "收银员多扫了一件商品", "购物卡过期不让用",
                             "存包柜里的东西丢了", "称重的{grocery}缺斤短两", "标价签和实际商品对不上"),
            "promo": ("搞满减活动", "宣传全场五折", "挂出“特价”牌子", "推出会员日优惠"),
            "price_trick": ("原价先提高了再打折", "特价商品根本不参加活动", "实际收费比宣传贵", "优惠券不能用"),
            "violation": ("销售过期食品", "价签与实际收费不符", "散装食品没有标签", "冷柜温度不达标，肉都变色了",
                          "销售三无产品", "缺斤短两"),
        },
        "投诉": (
            "{when}在{merchant}购物，{shop_problem}，[找服务台，]{refuse}，{demand}。",
            "{merchant}{promo}，结账才发现{price_trick}，感觉被欺骗了，{demand}。",
            "在{merchant}买的{grocery}{已经过期|有异味|缺斤短两}，[{proof}，]{refuse}，{demand}[，{urge}]。",
            "{merchant:supermarket,mall}的购物卡还有{amount}元余额，现在说门店要关闭，不给退卡，{demand}。",
        ),
        "举报": (
            "举报{merchant}{violation}，[{when}发现的，]请监管部门查处。",
            "{merchant}长期{violation}，多次反映没有改正，{urge}。",
        ),
        "咨询": (
            "{ask}超市的购物卡过期了还能用吗？[卡里还有{amount}元。]{ask_tail}",
            "{when}在{merchant}买东西，标价和结账价不一样，{ask}应该按哪个价格？{ask_tail}",
            "{ask}超市会员卡的余额能退吗？{merchant:supermarket}说只能消费不能退。",
            "{ask}{merchant:supermarket,mall}促销活动写着“最终解释权归商家所有”，这合法吗？",
            "{when}在{merchant}买的{grocery}{已经过期|有异味|发霉了}，{ask}除了退货还能要求赔偿吗？",
        ),
    },
    "职业索赔": {
        "merchants": ("supermarket", "online", "bakery", "pharmacy"),
        "amount": (20, 3000),
        "slots": {
            "pro_item": ("进口饼干", "蜂蜜", "代餐粉", "保健酒", "即食燕窝", "牛肉干", "咖啡", "橄榄油", "巧克力",
                         "蛋白棒", "茶叶", "枸杞"),
            "label_issue": ("未标注生产许可证编号", "配料表中的食品添加剂未标注具体名称", "进口食品没有中文标签",
                            "营养成分表标示不规范", "标注“零添加”涉嫌虚假宣传", "已超过保质期", "生产日期标注不清",
                            "未标注生产者地址和联系方式", "宣称具有保健功能但无保健食品批准文号"),
            "law": ("食品安全法", "产品质量法", "广告法", "消费者权益保护法", "预包装食品标签通则"),
            "article": ("六十七", "七十一", "三十四", "一百四十八", "二十八", "五十五"),
        },
        "投诉": (
            "本人于{date}在{merchant}购买{pro_item}{qty}件，共计{amount}元。经查该商品{label_issue}，违反《{law}》第{article}条规定，要求商家退一赔十。",
            "{date}，投诉人在{merchant}购买{pro_item}，发现{label_issue}，属于不符合食品安全标准的食品，依据《食品安全法》第一百四十八条要求支付价款十倍赔偿金。",
            "投诉人在{merchant}购买的{pro_item}{label_issue}，[购物凭证及商品照片已上传，]请求依法调解，要求退还货款{amount}元并支付十倍赔偿。",
        ),
        "举报": (
            "举报人于{date}在{merchant}购买{pro_item}{qty}盒，该产品{label_issue}，涉嫌违反《{law}》，请求依法查处并给予举报奖励。",
            "实名举报{merchant}销售{label_issue}的{pro_item}，附购物小票及商品照片，请依法立案查处并在法定期限内告知处理结果。",
            "举报{merchant}：所售{pro_item}{label_issue}，请求责令下架、依法处罚，并书面答复举报人。",
        ),
        "咨询": (
            "{ask}购买的食品标签不合格，是否可以主张价款十倍赔偿？{ask_tail}",
            "{ask}举报奖励的申请流程和标准是什么？[本人此前已提交过举报材料。]",
            "{ask}对举报处理结果不服，可以申请行政复议吗？{ask_tail}",
            "{ask}{pro_item}{label_issue}，是否属于不符合食品安全标准，能否要求退一赔十？",
        ),
    },
    "一般消费纠纷": {
        "merchants": ("gym", "beauty", "school", "service", "laundry", "online"),
        "amount": (30, 20000),
        "slots": {
            "card": ("会员卡", "预付卡", "健身年卡", "美容卡", "储值卡", "课时卡", "理发卡", "洗车卡"),
            "closure": ("门店突然关门了", "商家换了老板不认卡", "店铺搬到很远的地方", "老板联系不上了", "说经营不善要停业"),
            "prepaid": ("预付卡退费难", "剩下的钱退不回来", "要求退卡被拒", "只能转卡不能退钱"),
            "course": ("少儿英语课", "舞蹈班", "美术班", "考研辅导班", "编程课", "钢琴课"),
            "course_problem": ("老师换了好几个", "承诺的小班变成了大班", "培训机构跑路了", "上了几节课就停课了"),
            "beauty_problem": ("做完项目脸上过敏红肿", "办卡时承诺的项目都要另外加钱", "反复推销让办更贵的卡", "烫发把头发烫坏了"),
            "clothes": ("羽绒服", "大衣", "西装", "真丝衬衫", "羊绒衫"),
            "laundry": ("洗坏了", "严重缩水", "洗后掉色", "被洗丢了一件"),
            "goods": ("手机", "衣服", "化妆品", "小家电", "鞋子", "家具"),
            "online_problem": ("和网页描述不符", "收到的是假货", "七天无理由退货被拒", "迟迟不发货", "直播间说的赠品没有给"),
            "violation": ("虚假宣传", "强制消费", "诱导办卡后卷款跑路", "收费不明码标价", "用霸王条款拒绝退款"),
        },
        "投诉": (
            "{when}在{merchant:gym,beauty}办了一张{card}，充值{amount:300-10000}元，现在{closure}，{prepaid}，{要求退还剩余费用|要求退卡退款|请求12315帮忙调解|希望监管部门督促退费}。",
            "在{merchant:school}报了{course}，交了{amount:800-20000}元学费，{course_problem}，要求退费被拒，{要求退还剩余学费|要求全额退费|请求12315帮忙调解}。",
            "{merchant:beauty}{beauty_problem}，{refuse}，{demand}[，{urge}]。",
            "{when}在{merchant:laundry}洗的{clothes}{laundry}，商家只愿意赔{small}元，{demand}。",
            "在{merchant:online}买的{goods}{online_problem}，{refuse}，[{proof}，]{demand}。",
            "{预付卡|会员卡|储值卡}退费难！{i}在{merchant:gym,beauty,service}充了{amount:300-10000}元，才用了几次，{closure}，{demand}，{urge}。",
        ),
        "举报": (
            "举报{merchant}{violation}，[已有很多人上当，]请查处。",
            "{merchant}{violation}，{i}和好几个会员都被骗了，{urge}。",
        ),
        "咨询": (
            "{when}在{merchant:gym,beauty}办了{card}，现在想退，商家不给退。{ask}怎么维权？{ask_tail}",
            "{ask}网购商品七天无理由退货的范围有哪些？[在{merchant:online}买的{goods}拆封了还能退吗？]",
            "{ask}消费纠纷可以找哪个部门调解？{ask_tail}",
            "{ask}商家说“本店最终解释权归商家所有”，合法吗？{ask_tail}",
            "{ask}怎么在12315平台上投诉？需要哪些材料？[我在{merchant}遇到了纠纷。]",
            "{when}在{merchant:online}买的{goods}{online_problem}，{ask}退货被拒怎么办？",
            "{ask}预付卡商家跑路了，钱还能要回来吗？[{i}充了{amount}元。]{ask_tail}",
            "孩子在{merchant:school}报的{course}{course_problem}，{ask}培训机构不给退费可以投诉吗？",
            "{ask}洗衣店把衣服{laundry}，只按洗衣费的几倍赔偿合理吗？{ask_tail}",
        ),
    },
    "汽车": {
        "merchants": ("car_dealer", "used_car", "garage"),
        "amount": (300, 300000),
        "slots": {
            "car": ("新车", "SUV", "新能源汽车", "轿车", "二手车", "面包车"),
            "car_problem": ("提车时发现是库存车", "开了不到一个月发动机就异响", "被强制购买{small}元的精品装潢",
                            "被收取了“出库费”", "变速箱多次维修仍有问题", "贷款服务费事先没有告知", "车漆有明显的补漆痕迹"),
            "used_problem": ("里程表被调过，实际里程比表显多了好几万公里", "是泡水车，商家却说无事故", "二手车里程造假",
                             "隐瞒了重大事故", "过户后才发现有违章没处理"),
            "repair_problem": ("被换了副厂配件却按原厂收费", "保养后车子反而出了问题", "维修费比报价高了一倍", "修了半个月还没修好"),
            "plate": ("车牌号晋A·{digits}", "车牌晋D{digits}", "车牌号晋M{digits}", ""),
            "digits": ("7K3Q2", "5C9D1", "12345", "6A8B3", "D20Y7"),
        },
        "投诉": (
            "{when}在{merchant:car_dealer}购买了一辆{car}，{car_problem}，{refuse}，{demand}。",
            "在{merchant:used_car}买的二手车，{used_problem}，{plate}，{demand}[，{urge}]。",
            "{when}把车送到{merchant:garage,car_dealer}保养，{repair_problem}，[{proof}，]{demand}。",
            "{merchant:car_dealer}强制消费，不买{small}元的保险和装潢就不给提车，{demand}。",
        ),
        "举报": (
            "举报{merchant:used_car}销售二手车时调表，{used_problem}，请核查。",
            "举报{merchant:car_dealer}捆绑销售保险和精品，不买不给提车，{urge}。",
        ),
        "咨询": (
            "{when}在{merchant:car_dealer}买的{car}{car_problem}，{ask}能适用汽车三包吗？{ask_tail}",
            "{ask}二手车里程造假怎么维权？{i}在{merchant:used_car}买的车可能被调过表。",
            "{ask}4S店收取出库费、上牌费合理吗？{ask_tail}",
            "{ask}汽车维修时被换了副厂件，可以要求赔偿吗？{ask_tail}",
        ),
    },
    "房地产": {
        "merchants": ("developer", "decoration", "agency", "furniture"),
        "amount": (1000, 800000),
        "slots": {
            "months": ("两", "三", "四", "六"),
            "delay": ("两个多月", "半年", "四个月", "一个多月"),
            "deco_problem": ("工人天天不来", "墙面起皮开裂", "用的材料和合同不一致", "水电改造偷工减料"),
            "house_problem": ("交房时墙面大面积开裂", "实际面积缩水了好几平米", "样板间和实际完全不一样",
                              "承诺的学区没有兑现", "迟迟办不下房产证", "地下室常年漏水"),
            "furniture": ("衣柜", "橱柜", "全屋定制家具", "沙发", "床垫"),
            "furniture_problem": ("甲醛味特别大", "尺寸做错了", "板材和样品不一样", "交货延期两个月"),
            "agent_problem": ("押金一直不退", "房东和中介说法不一样", "被收了两次中介费", "房子里的家电都是坏的"),
            "house_ad": ("宣传“地铁口”实际离地铁站好几公里", "宣传有学区实际没有", "虚构绿化率"),
        },
        "投诉": (
            "{when}在{merchant:decoration}签了装修合同，约定{months}个月完工，现在已经延期{delay}，{deco_problem}，{demand}。",
            "装修延期！{i}家交给{merchant:decoration}装修，合同价{amount:20000-300000}元，{deco_problem}，{refuse}，{demand}。",
            "在{merchant:developer}买的房子{house_problem}，开发商{deny}，{demand}[，{urge}]。",
            "{merchant:furniture}定制的{furniture}{furniture_problem}，{refuse}，{demand}。",
            "通过{merchant:agency}租房，{agent_problem}，{demand}。",
        ),
        "举报": (
            "举报{merchant:developer}虚假宣传，{house_ad}，请查处。",
            "举报{merchant:developer,agency}收取定金{amount}元后不签合同，也不退钱，{urge}。",
        ),
        "咨询": (
            "{ask}装修公司延期交工，可以要求赔偿吗？[和{merchant:decoration}签的合同约定{months}个月完工。]",
            "{ask}定制家具甲醛超标，怎么检测和维权？{ask_tail}",
            "{ask}房产中介费的收取有标准吗？{ask_tail}",
            "{when}交了定金，后来不想买了，{merchant:developer}不退定金。{ask}这种情况能退吗？",
        ),
    },
    "价格": {
        "merchants": ("restaurant", "hotel", "parking", "supermarket"),
        "amount": (10, 5000),
        "slots": {
            "menu_case": ("菜单没有标价，结账收了{amount}元", "收取包间费、开瓶费事先没告知", "按“时价”收费，一条鱼要了{amount}元",
                          "结账价格和菜单上的不一致", "服务费没有提前告知"),
            "park_case": ("停车收费远超公示标准", "停了两个小时收了{small}元", "没有公示收费标准", "不足半小时也按一天收费"),
            "hotel_case": ("房价比平时贵了好几倍", "前台临时加价", "一瓶矿泉水卖{small}元", "订好的房间到店后又要求加钱"),
            "price_detail": ("同样的东西比别家贵了一倍", "标价{small}元实收{amount}元", "价格不合理，明显是宰客",
                             "收费项目没有公示"),
            "hike": ("节假日房价涨了三倍", "口罩价格一天一个价", "蔬菜价格突然翻倍", "鸡蛋一天涨了两次价"),
        },
        "投诉": (
            "{when}在{merchant:restaurant}吃饭，{menu_case}，{demand}。",
            "{when}在{merchant:parking}停车，{park_case}，{demand}[，{urge}]。",
            "{merchant}价格不合理，{price_detail}，[感觉被宰了，]{demand}[，{urge}]。",
            "{when}入住{merchant:hotel}，{hotel_case}，前台说就是这个价，{demand}。",
        ),
        "举报": (
            "举报{merchant}不明码标价，{price_detail}。",
            "举报{merchant}哄抬价格，{hike}，{urge}。",
            "举报{merchant}价格欺诈，先提价后打折。",
        ),
        "咨询": (
            "{ask}商家不明码标价可以举报吗？[{when}在{merchant:restaurant}吃饭遇到的。]{ask_tail}",
            "{ask}{county}的停车场收费标准是多少？怎么查？",
            "{ask}节假日酒店涨价有没有上限？{ask_tail}",
            "{ask}餐馆收取包间费、开瓶费合法吗？{ask_tail}",
        ),
    },
    "产品质量": {
        "merchants": ("clothes", "appliance", "ebike", "gold", "furniture", "mall", "online"),
        "amount": (40, 30000),
        "slots": {
            "clothes": ("衣服", "T恤", "牛仔裤", "羽绒服", "毛衣", "卫衣", "连衣裙", "衬衫", "裤子"),
            "fade": ("洗了一次就严重掉色", "穿了两天就起球", "开线了", "掉色把其他衣服都染了", "衣服掉色，还缩水"),
            "exchange": ("要求换货被拒", "更换难，商家一直推", "店里说洗过了不给换", "只给换不给退，可店里没有同款"),
            "appliance": ("空调", "冰箱", "洗衣机", "热水器", "电视", "油烟机", "手机", "燃气灶"),
            "appliance_problem": ("不制冷", "噪音特别大", "用了三个月就坏了", "漏水", "质量差，三天两头出毛病",
                                  "开机就黑屏", "电器质量差，修了三次还是不行"),
            "repair": ("售后上门修了两次还是不好", "厂家说要等配件，等了一个月", "售后人员一直不上门", "修好没几天又坏了"),
            "ebike_problem": ("电池鼓包", "充电时冒烟", "续航严重不足", "刹车失灵", "电池用了半年就不行了"),
            "gold": ("金项链", "金手镯", "金戒指", "黄金吊坠", "金手链"),
            "gold_problem": ("以次充好，检测含金量不达标", "克重不足", "工费比标价高很多", "戴了几天就变色"),
            "fake": ("假冒品牌服装", "以次充好的黄金饰品", "没有3C认证的电器", "不合格的电动车电池", "三无插线板"),
        },
        "投诉": (
            "在{merchant:clothes,mall}购买的{clothes}{fade}，{exchange}，{demand}。",
            "{when}在{merchant:clothes,mall,online}买的{clothes}{fade}，[价格{amount}元，]{exchange}，{demand}[，{urge}]。",
            "{when}在{merchant:appliance,mall}买的{appliance}{appliance_problem}，{repair}，{demand}。",
            "{when}在{merchant:ebike}买的电动车{ebike_problem}，[太危险了，]{refuse}，{demand}。",
            "在{merchant:gold,mall}买的{gold}{gold_problem}，花了{amount:800-30000}元，{demand}。",
            "{appliance}质量差！{i}在{merchant:appliance,mall,online}花{amount:800-15000}元买的，{appliance_problem}，{repair}，{demand}。",
        ),
        "举报": (
            "举报{merchant}销售{fake}，以次充好，请查处。",
            "举报{merchant:ebike}私自改装电动车、拆除限速装置，存在安全隐患，{urge}。",
            "{merchant}销售{fake}，[{when}买了一件，]请监管部门抽检。",
        ),
        "咨询": (
            "{when}在{merchant:appliance,mall}买的{appliance}{appliance_problem}，{ask}三包期内商家不给换怎么办？",
            "{ask}衣服掉色，商家不给退合理吗？[是在{merchant:clothes,mall}买的。]{ask_tail}",
            "{ask}黄金首饰怎么检测含金量？{ask_tail}",
            "{ask}电动车电池鼓包能要求换新吗？[车是{when}在{merchant:ebike}买的。]{ask_tail}",
            "{ask}产品质量问题的举证责任在谁？{ask_tail}",
            "{ask}买的{clothes}{fade}，商家说洗涤方法不对，能要求退货吗？",
        ),
    },
    "旅游": {
        "merchants": ("travel", "hotel"),
        "amount": (50, 12000),
        "slots": {
            "tour_problem": ("门票价格不合理", "景区排队三个多小时", "导游强制购物", "被拉到购物店强制消费",
                             "索道停运却不退票", "景区内餐饮价格太贵", "宾馆临时加价", "景区停车场乱收费"),
            "agent_problem": ("导游擅自变更行程", "承诺的四星酒店变成了小旅馆", "被要求额外交{small}元的自费项目",
                              "行程缩水，两个景点没去", "导游态度恶劣，不购物就甩脸色"),
            "route": ("两日游", "一日游", "三日游", "亲子游", "夕阳红"),
            "low_price": ("99元三日游", "零团费", "低价团再到购物店强制消费"),
            "tout": ("黑导游", "黑车司机", "拉客人员"),
        },
        "投诉": (
            "{when}去{scenic}旅游，{tour_problem}，{demand}。",
            "报了{merchant:travel}的{scenic}{route}，{agent_problem}，{demand}[，{urge}]。",
            "{when}在{scenic}附近的{merchant:hotel}住宿，{tour_problem}，{refuse}，{demand}。",
        ),
        "举报": (
            "举报{merchant:travel}组织不合理低价游，{low_price}，请查处。",
            "举报{scenic}周边{tout}拉客宰客，{urge}。",
        ),
        "咨询": (
            "{ask}旅行社擅自变更行程，可以要求赔偿吗？{ask_tail}",
            "{ask}{scenic}的门票有没有老年人优惠？{ask_tail}",
            "{ask}景区索道停运能退票吗？[{when}去{scenic}遇到的。]",
            "{ask}跟团游被导游强制购物，买的东西能退吗？{ask_tail}",
        ),
    },
}

# Put before a text that came out too short: who is asking, from where.
SHORT_PREFIXES = ("我是{county}的消费者，", "我家住在{city}{county}，", "{county}市民来电，", "本人是{city}居民，")

# Filler sentences appended when a text is still too short.
FILLERS = ("希望相关部门尽快处理。", "请尽快联系我。", "麻烦帮忙核实一下。", "盼复。", "辛苦了。")

# How hotline operators open the record they type while the caller talks (channels 12315,
# 12345 and 110); the rest is in the caller's words.
OPERATOR_OPENINGS = {
    "咨询": ("消费者来电咨询：", "来电人咨询：", "市民来电：", "来电咨询，"),
    "投诉": ("消费者来电反映：", "来电人称：", "消费者反映，", "来电人投诉："),
    "举报": ("来电人举报：", "群众反映：", "来电人实名举报，"),
}
TRANSFER_OPENINGS = ("12345热线转办：", "市民热线转来：", "110联动转办：")

# Closings added to some complaints: what the consumer already tried.
CLOSINGS = ("{history}，{urge}。", "{history}，问题一直没有解决。", "{i}{history}，实在没办法才投诉。")
