/** `app_` or `app_test_` and 27 letters or digits (a KSUID). */
export const APP_ID_PATTERN = /^app_(test_)?[0-9A-Za-z]{27}$/;
