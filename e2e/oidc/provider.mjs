// A real OpenID provider for passnum's ProConnect tests: the npm package oidc-provider,
// configured like ProConnect's integration environment (authorization code with PKCE,
// client_secret_post, ID token and user info signed with RS256, the user info as a JWT, the
// ProConnect scopes given_name, usual_name, siret, and sign-out through end_session_endpoint).
//
//   node e2e/oidc/provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_URI
//
// Its development sign-in form accepts any of the accounts below by their subject (the
// "login" field); the grant is given at once (ProConnect asks no consent).
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri, postLogoutUri] = process.argv.slice(2);

const accounts = {
  "sub-awa": { email: "awa@lyon.fr", given_name: "Awa", usual_name: "Diallo", siret: "21690123000005" },
  // Another establishment of the same town (same SIREN).
  "sub-ben": { email: "ben@lyon.fr", given_name: "Ben", usual_name: "Martin", siret: "21690123000013" },
  "sub-carla": { email: "carla@ailleurs.fr", given_name: "Carla", usual_name: "Rossi", siret: "21690123000005" },
  // An agent of another organisation.
  "sub-dan": { email: "dan@lyon.fr", given_name: "Dan", usual_name: "Petit", siret: "73282932000074" },
  "sub-eve": { email: "eve@operateur.fr", given_name: "Ève", usual_name: "Laurent", siret: "13002603200008" },
};

const scopes = ["openid", "email", "given_name", "usual_name", "siret"];

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutUri],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_post",
      id_token_signed_response_alg: "RS256",
      userinfo_signed_response_alg: "RS256",
    },
  ],
  scopes,
  claims: {
    openid: ["sub"],
    email: ["email"],
    given_name: ["given_name"],
    usual_name: ["usual_name"],
    siret: ["siret"],
  },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(scopes.join(" "));
    await grant.save();
    return grant;
  },
});

provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider prêt sur http://127.0.0.1:${port}`);
});
