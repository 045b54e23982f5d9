-- herald-hub schema, step 9: callbacks are signed. The key is the stored SHA-256 of the app token
-- whose callback URL is used, which the app can compute from its own token: nothing new to hand
-- out, and a callback cannot be forged by someone who only knows the URL.
ALTER TABLE callbacks ADD COLUMN signing_key BLOB;
