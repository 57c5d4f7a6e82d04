# The terminal catalog, zh-CN. Fluent syntax (https://projectfluent.org/fluent/guide/):
#   key-with-hyphens = Sentence with { $param } and a plural { $n ->
#       [one] form
#      *[other] forms
#   }
# A key in the code is its id with dots for hyphens: `invalid.flag_value` is `invalid-flag_value`.
# Every id exists in en and zh-CN (tests/test_messages.py renders them all).

## cli
cli-unreadable_file = 无法读取 { $path }：请检查路径和权限。

## console
console-edit_usage = 用法：/edit 文件 [文件 ...] [--mask 文件] -- 提示词
console-gallery = 你在网页伴侣中的图片（由 `pixelsmith run` 提供服务；请在 { $minutes } 分钟内打开，链接只能使用一次）：{ $url }

## reaper
reaper-unknown = 你的请求“{ $prompt }”在完成前因重启而中断。它可能已被计费，因此按已计费记录。请重试。
reaper-released = 你的请求“{ $prompt }”在发送前因重启而中断，未扣费。请重试。

## run
run-no_platform = 尚未配置任何聊天平台。请设置 DISCORD_TOKEN，或 SLACK_BOT_TOKEN 加上 SLACK_APP_TOKEN（socket 模式）或 SLACK_SIGNING_SECRET（http 模式）。不需要任何令牌即可试用：运行 `pixelsmith console`。
run-incomplete_platform = Slack 需要 SLACK_BOT_TOKEN，socket 模式还需 SLACK_APP_TOKEN，http 模式还需 SLACK_SIGNING_SECRET（slack.mode）。`pixelsmith doctor` 会检查所有配置。
run-ready = Pixelsmith 正在运行：{ $platforms }。按 Ctrl+C 或发送 SIGTERM 停止。

## doctor
doctor-fix = 修复：{ $fix }
doctor-hint = 提示：{ $fix }
doctor-all_ok = 全部检查通过。
doctor-some_failed = { $count } 项检查未通过：修复后请再次运行 `pixelsmith doctor`。
doctor-what_config = 配置
doctor-what_database = 数据库
doctor-what_gateway = 网关密钥
doctor-what_model = 模型 { $model }
doctor-what_prices = { $model } 的价格
doctor-what_discord = Discord 令牌
doctor-what_discord_shards = Discord 分片
doctor-what_slack = Slack
doctor-what_slack_bot = Slack 机器人令牌
doctor-what_slack_app = Slack 应用级令牌
doctor-what_slack_secret = Slack 签名密钥
doctor-config_file = 已从 { $path } 读取并通过校验
doctor-config_defaults = 没有配置文件：使用内置默认值，已通过校验（如需修改，请把 config.example.toml 复制为 config.toml）
doctor-what_jobs = 需要查看的任务
doctor-jobs_ok = 无（最近 30 天内没有超过租约的任务、没有封顶的费用、没有结果未知的任务）
doctor-jobs_some = 有 { $count } 个任务需要管理员查看：
doctor-jobs_fix = 用 `pixelsmith history` 查看每个任务，结果未知的请核对网关账单；`pixelsmith usage --check` 也会列出它们
doctor-db_ok = { $backend } { $where }，已迁移到最新版本（{ $revision }）
doctor-db_ok_postgres = PostgreSQL { $where }，已迁移到最新版本（{ $revision }）；可供多个机器人进程共用
doctor-db_not_head = { $backend } { $where } 处于版本 { $revision }，不是最新版本 { $head }
doctor-db_not_head_fix = 所有机器人进程请使用同一版本的 Pixelsmith；被新版本迁移过的数据库不能由旧版本使用。
doctor-db_failed = 无法打开 { $backend } { $where }（{ $error }）
doctor-db_fix_postgres = 请启动 PostgreSQL 服务器，或更正 database.url 中的主机、端口、用户、密码和数据库名（postgresql+psycopg://用户:密码@主机:端口/数据库）；该数据库必须已存在，且该用户有权在其中建表。
doctor-db_fix_sqlite = 请确认 database.url 所在的文件夹存在且当前用户可写，并且没有其他程序锁住该文件。
doctor-db_bad_url = database.url 不是受支持的数据库地址
doctor-db_bad_url_fix = 请使用 sqlite:///路径（文件）或 postgresql+psycopg://用户:密码@主机:端口/数据库。
doctor-gateway_demo = provider.kind = demo：在本地绘制占位图片，不使用网关
doctor-gateway_no_key = 没有设置 API 密钥
doctor-gateway_no_key_fix = 请把 PIXELSMITH_API_KEY（或 provider.api_key）设为你在 { $base_url } 的密钥；或设置 provider.kind = "demo"，无需密钥即可试用 Pixelsmith。
doctor-gateway_ok = { $base_url } 接受了该密钥（列出 { $count } 个模型；未生成图片，未计费）
doctor-gateway_rejected = 网关拒绝了该密钥（HTTP { $status }）
doctor-gateway_forbidden = 网关拒绝此密钥访问（HTTP { $status }）
doctor-gateway_forbidden_fix = 请在网关控制台确认该密钥已启用，并允许在 { $base_url } 列出模型；你的 IP 地址或地区也可能被屏蔽。
doctor-gateway_unreachable = 无法连接 { $base_url }（{ $error }）
doctor-gateway_unreachable_fix = 请检查 provider.base_url（通常以 /v1 结尾），并确认本机能访问它（代理、防火墙、DNS）。
doctor-gateway_http_error = 网关对 GET /models 返回了 HTTP { $status }
doctor-gateway_http_error_fix = 请检查 provider.base_url（通常以 /v1 结尾）；如果地址无误，网关可能正在故障，请稍后再试。
doctor-gateway_no_list = { $base_url } 不提供模型列表（HTTP { $status }），因此无法在不生成图片的情况下检查密钥
doctor-gateway_no_list_hint = 如果图片请求返回 HTTP 401，请检查 PIXELSMITH_API_KEY。
doctor-model_ok = 网关提供该模型
doctor-model_skipped = 未检查：网关检查没有通过
doctor-model_demo = 未检查：演示模式不使用模型
doctor-model_unlisted = 未检查：网关不提供模型列表
doctor-model_not_served = 网关不提供该模型（网关提供的目录内模型：{ $served }）
doctor-model_retired = 目录中的下线日期（{ $date }）已过，且无法向网关确认是否仍提供该模型
doctor-model_retired_served = 已过目录中的下线日期（{ $date }），但网关仍提供该模型：目前可用，请尽早更换（见 `pixelsmith models`）
doctor-model_not_served_retired = 网关不提供该模型（已于 { $date } 下线；网关提供的目录内模型：{ $served }）
doctor-model_retiring = 将于 { $date } 下线，还剩 { $days } 天
doctor-model_disabled = 它是 provider.default_model，但 [models.{ $model }] 设置了 enabled = false
doctor-model_fix_default = 请把 provider.default_model 改为其他模型（`pixelsmith models` 会列出网关提供的模型）。
doctor-model_fix_table = 请在 [models.{ $model }] 中设置 enabled = false（或删除该表），或更正模型名称。
doctor-prices_unverified = 价格未核实：费用和额度按估算计算
doctor-prices_fix = 请对照网关的价格页面核对 { $model } 的价格，然后在 [models.{ $model }] 中设置 prices_verified = true（如有需要先更正 [models.{ $model }.prices]）。
doctor-discord_none = 未配置（设置 DISCORD_TOKEN 即可运行 Discord 机器人）
doctor-discord_ok = 有效：已登录为 { $name }（id { $id }）
doctor-discord_rejected = Discord 拒绝了该令牌（HTTP { $status }）
doctor-discord_fix = 请把 DISCORD_TOKEN（或 discord.token）设为开发者门户中的机器人令牌：你的应用 → Bot → Reset Token（不是 Client Secret，也不是 Public Key）。
doctor-discord_http_error = Discord 返回了 HTTP { $status }
doctor-discord_shards = { $auto ->
        [yes] 共 { $count } 个（discord.shard_count = "auto"：采用 Discord 的建议）
       *[no] 共 { $count } 个（discord.shard_count）
    }；本进程运行 { $runs }；Discord 建议 { $recommended } 个，每次可同时启动 { $concurrency } 个
doctor-discord_shards_all = 全部分片
doctor-discord_shards_few_fix = Discord 建议这个机器人至少使用 { $recommended } 个分片：请在每个进程中把 discord.shard_count 调到 { $recommended }（只有一个进程时也可用 "auto"），并把 discord.shard_ids 分配给各个进程；单个分片超过 2,500 个服务器时会被拒绝（网关关闭码 4011）。
doctor-unreachable = 无法连接 { $url }（{ $error }）
doctor-unreachable_fix = 请确认本机能访问 { $url }（代理、防火墙、DNS），然后重试。
doctor-slack_none = 未配置（设置 SLACK_BOT_TOKEN，并设置 SLACK_APP_TOKEN 或 SLACK_SIGNING_SECRET，即可运行 Slack 机器人）
doctor-slack_no_bot = 没有设置机器人令牌
doctor-slack_bot_fix = 请把 SLACK_BOT_TOKEN（或 slack.bot_token）设为应用 OAuth & Permissions 页面上的 Bot User OAuth Token（xoxb-…）；如果令牌已被撤销，请重新安装应用。
doctor-slack_bot_ok = 有效：工作区 { $team } 中的 @{ $user }
doctor-slack_rejected = Slack 拒绝了该令牌（{ $error }）
doctor-slack_not_bot = 这不是机器人令牌（auth.test 显示没有机器人）
doctor-slack_app_missing = slack.mode = socket 需要应用级令牌，但没有设置
doctor-slack_app_fix = 请把 SLACK_APP_TOKEN（或 slack.app_token）设为带 connections:write 权限的应用级令牌（xapp-…，在 Basic Information → App-Level Tokens 中创建）；或设置 slack.mode = "http" 并提供签名密钥。
doctor-slack_app_ok = 有效：Socket Mode 可以连接
doctor-slack_secret_missing = slack.mode = http 需要签名密钥来校验请求，但没有设置
doctor-slack_secret_fix = 请把 SLACK_SIGNING_SECRET（或 slack.signing_secret）设为应用 Basic Information → App Credentials 中的值；或设置 slack.mode = "socket" 并提供应用级令牌。
doctor-slack_secret_ok = 已设置（Slack 的请求将用它校验）
doctor-slack_http_error = Slack 返回了 HTTP { $status }
doctor-what_slack_client = Slack OAuth 客户端
doctor-what_slack_installs = Slack 工作区
doctor-slack_client_ok = Slack 接受该客户端 ID 和密钥
doctor-slack_client_fix = 从应用的 Basic Information → App Credentials 设置 SLACK_CLIENT_ID 和 SLACK_CLIENT_SECRET（或 slack.client_id / slack.client_secret）。
doctor-slack_installs_ok = 已有 { $count } 个工作区或 Grid 组织安装
doctor-slack_installs_none = 还没有工作区安装此应用
doctor-slack_installs_fix = 在浏览器中打开 https://your.host/slack/install（Slack HTTP 端口的公网地址），为一个工作区批准此应用。
doctor-slack_installs_unsealable = 已存储的 { $total } 个 Slack 安装中有 { $count } 个无法解密
doctor-err_timeout = { $seconds } 秒后超时
doctor-err_connect = 连接失败
doctor-err_other = 错误 { $kind }

## cli
cli-bad_user = '{ $value }' 不是用户：请使用 platform:id（例如 discord:1234），或用纯 id 表示本地用户
cli-bad_community = '{ $value }' 不是社区 id
cli-bad_date = '{ $value }' 不是日期：请使用 YYYY-MM-DD
cli-bad_amount = '{ $value }' 不是有效的{ $unit ->
        [usd] 美元
       *[images] 图片
    }数量
cli-bad_limit = '{ $value }' 不是有效的限额：请使用 >= 0 的数字或 'unlimited'
cli-bad_limit_value = { $option }：{ $problem }
cli-set_nothing = 没有可设置的内容：请至少给出 --daily-images、--monthly-images、--daily-usd、--monthly-usd、--budget-usd、--concurrent-jobs 之一（或 --clear）
cli-set_user_xor_community = 请给出 USER 或 --community C 之一，不能同时给出，也不能都不给
cli-budget_needs_community = --budget-usd 是社区预算：请与 --community C 一起使用
cli-set_done = { $scope } 的覆盖设置现为：{ $limits }
cli-set_cleared = 已移除 { $scope } 的覆盖设置；改用配置文件
cli-set_none = { $scope } 没有覆盖设置
cli-grant_done = 已为 { $scope } 增加{ $period ->
        [day] 今天
       *[month] 本月
    }的 { $amount }
cli-ban_done = { $scope } 已被封禁
cli-ban_already = { $scope } 早已被封禁
cli-unban_done = { $scope } 已解除封禁
cli-unban_not = { $scope } 未被封禁
cli-show_title = { $scope }{ $community } 的配额
cli-show_banned = 已封禁{ $reason }
cli-show_cooldown = 冷却至 { $until }
cli-show_override = 数据库中的覆盖设置：{ $limits }
cli-unlimited = 无限制
cli-check_ok = 正常：所有计数器与账本一致
cli-check_bad = 计数器与账本之间有 { $count } 处差异：
cli-check_look = 有 { $count } 个任务需要查看：
cli-usage_empty = 没有计费任务{ $since }
cli-history_empty = { $scope } 没有任务
cli-total = 合计
cli-reaped_unknown = 你之前的请求“{ $prompt }”（任务 { $job }）未完成：网关处理期间其命令已结束。可能已被计费，因此按最坏情况计为已收费（${ NUMBER($cost, minimumFractionDigits: 4, maximumFractionDigits: 4) }）；见 `pixelsmith history`。
cli-reaped_released = 你之前的请求“{ $prompt }”（任务 { $job }）未完成：其命令在发送前已结束。未收取任何费用。
cli-interrupted = 已中断。进行中的任务已按计费规则结算：若尚未发送则释放预留，否则按“结果未知”计费（见 `pixelsmith history`）。
cli-out_not_folder = --out { $path } 是文件而不是文件夹：请指定一个文件夹（不存在时会自动创建）。未发送任何请求，也未扣费。
cli-out_uncreatable = 无法创建文件夹 { $path }：请用 --out 指定一个可写的文件夹。未发送任何请求，也未扣费。
cli-out_unwritable = 无法写入文件夹 { $path }：请修改其权限，或用 --out 指定其他文件夹。未发送任何请求，也未扣费。
cli-bad_web_community = '{ $value }' 不是社区：请使用 discord:<服务器 id> 或 slack:<团队 id>
cli-web_off = 网页伴侣未启用：请设置 web.port（在 TLS 反向代理之后还需设置 web.public_url）和 PIXELSMITH_SECRET_KEY（至少 32 个随机字符）；由 `pixelsmith run` 提供服务。
cli-dashboard_link = 上面的链接可打开该社区的管理面板，只能使用一次，须在 { $minutes } 分钟内打开，且需 `pixelsmith run` 以相同密钥运行网页伴侣。

## pixelsmith models
models-header = 图像模型：网关 { $base_url } 列出的模型与目录对照。
models-gateway_failed = 无法读取网关的模型列表（{ $reason }）：以下仅列出目录。原因见 `pixelsmith doctor`。
models-default = 默认
models-served = 网关提供
models-not_served = 网关不提供
models-served_unknown = 未询问网关
models-in_catalog = 在目录中
models-not_in_catalog = 不在目录中：如需使用，请添加 [models."{ $model }"] 表（例如 `base = "{ $base }"`，再填写价格）
models-sizes = 尺寸：{ $sizes }
models-flexible = 或任意 WxH：宽高均为 16 的倍数，宽高比 1:3 至 3:1，像素 { $min_pixels } 至 { $max_pixels }，边长不超过 { $max_edge }
models-experimental = 超过 { $pixels } 像素为实验性
models-qualities = 质量：{ $qualities }
models-no_quality = 质量：无（该模型不接受 `quality` 参数）
models-prices_tokens = 价格：文本输入每百万词元 ${ $text_in }，图片输入每百万 ${ $image_in }，图片输出每百万 ${ $image_out }
models-prices_text_out = 文本输出每百万 ${ $text_out }
models-prices_square = 每张 1024x1024 图片：{ $prices }
models-prices_flat = 价格：每张图片 ${ $price }
models-verified = 价格已核实
models-unverified = 价格未核实（估算值；请查看网关的价格页面）
models-active = 状态：可用
models-retiring = 状态：将于 { $date } 下线
models-retired_served = 状态：已过下线日期 { $date }，网关仍提供
models-retired = 状态：已于 { $date } 下线
models-gateway_shutdown = 网关公布的下线日期：{ $date }
models-source = 来源：{ $source }
models-backgrounds = 背景：{ $backgrounds }（透明背景需要 `png` 或 `webp` 格式）
models-preview = 预览
models-markup = 编辑时可在第一张图片上附加草图（`markup`）

## pixelsmith keys
cli-keys_prompt = 网关密钥（不显示）：{" "}
cli-keys_env_empty = 环境变量 { $var } 未设置或为空：未保存任何内容。
cli-keys_set = { $community } 现在使用自己的密钥 { $fingerprint }，网关 { $base_url }。
cli-keys_byok_off = 注意：`byok.enabled = false`，在启用之前不会使用已保存的密钥。
cli-keys_none = 没有社区设置自己的密钥。
cli-keys_removed = 已移除（任务停止）
cli-keys_opens_yes = 是
cli-keys_opens_no = 否（请重新设置）
cli-keys_tested = { $community }：{ $outcome ->
        [ok] 正常，网关接受该密钥
        [rejected] 网关拒绝该密钥
        [forbidden] 网关拒绝该密钥的访问
        [unreachable] 无法连接网关
        [http_error] 网关返回了错误
        [unlisted] 网关没有列出模型；无法判断密钥是否有效
        [unsealable] 无法用 PIXELSMITH_SECRET_KEY 解密已保存的密钥
        [removed] 密钥已移除；设置新密钥之前任务会停止
       *[none] 未保存密钥
    }
cli-keys_remove_none = { $community } 没有自己的密钥。
cli-keys_remove_fallback = 已移除 { $community } 的密钥；其任务重新使用你的密钥。
cli-keys_remove_stopped = 已移除 { $community } 的密钥；设置新密钥之前其任务会停止（`byok.fallback_to_operator = false`；使用 --forget 可让其重新使用你的密钥）。
cli-keys_rotated = 已用第一个 PIXELSMITH_SECRET_KEY 重新加密 { $count } 个社区密钥和 { $installs } 个 Slack 安装：现在可以移除旧的密钥。

## doctor: communities' own keys
doctor-what_byok = 社区密钥
doctor-what_byok_key = { $community } 的密钥
doctor-byok_none = 已启用；还没有社区设置自己的密钥
doctor-byok_off = { $count } 个已保存的密钥未被使用：`byok.enabled = false`
doctor-byok_ok = { $fingerprint } 被 { $base_url } 接受
doctor-byok_bad = { $fingerprint }（{ $base_url }）：{ $outcome ->
        [rejected] 网关拒绝该密钥
        [forbidden] 网关拒绝该密钥的访问
        [unreachable] 无法连接网关
        [unlisted] 网关没有列出模型，无法检查该密钥
       *[other] 网关返回了错误
    }
doctor-byok_fix = 在该社区的管理员设置可用的密钥（`/pixelsmith-admin key`、`/imagine-admin key`）或你运行 `pixelsmith keys set { $community }` 之前，其任务会失败
doctor-byok_removed = 已移除；其任务会停止（`byok.fallback_to_operator = false`）
doctor-byok_removed_fix = 由该社区的管理员设置新密钥，或运行 `pixelsmith keys remove COMMUNITY --forget` 让其重新使用你的密钥
doctor-byok_unsealable = 无法用 PIXELSMITH_SECRET_KEY 解密 { $fingerprint }
cli-keys_in_group = 注意：{ $community } 属于 { $group }（Slack 企业网格组织）：其成员的任务属于该组织，使用该组织的密钥。请用 `pixelsmith keys set { $group }` 设置。
