"""Topics of the cache-invalidation broadcast; the message is what to drop ("*" for all)."""

KEYS_TOPIC = "keys"    # message: a key hash
USERS_TOPIC = "users"  # message: a user id
CATALOG_TOPIC = "catalog"  # message: ignored; every process reloads its whole catalog snapshot
LIMITS_TOPIC = "limits"  # message: an api key id whose rate_limit_configs row changed
ALL = "*"
