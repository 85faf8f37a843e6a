"""The Binance USDⓈ-M dialect as rocky-bot speaks it: signed client, typed replies, error tree."""
