"""The bot's cogs, added by :meth:`bots.discord.bot.PixelsmithBot.setup_hook` with what each needs."""
