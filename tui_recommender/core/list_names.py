"""The two lists a user keeps besides ratings, by the names the ratings database stores.

A movie on the watchlist is one the user wants to see; one marked "not interested" is
never recommended to them again and counts as a negative when the model next learns from
them. Kept free of imports, so the app can name the lists before pandas loads."""

WATCHLIST = "watchlist"
NOT_INTERESTED = "not interested"
LISTS = (WATCHLIST, NOT_INTERESTED)
