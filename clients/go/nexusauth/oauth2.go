package nexusauth

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

// OAuth2 adapts the source to golang.org/x/oauth2, for libraries that take an
// oauth2.TokenSource (oauth2.NewClient, Google's option.WithTokenSource, ...). Tokens come
// from this source's cache (one GetToken per token lifetime); ctx is used for those calls.
// Only bearer-type credentials fit an oauth2.Token: OAUTH2 and BEARER connections; any
// other strategy is an error (use Transport or ApplyCredentials for those).
func (s *TokenSource) OAuth2(ctx context.Context) oauth2.TokenSource {
	return oauth2Source{ctx: ctx, source: s}
}

type oauth2Source struct {
	ctx    context.Context
	source *TokenSource
}

func (o oauth2Source) Token() (*oauth2.Token, error) {
	cred, err := o.source.Token(o.ctx)
	if err != nil {
		return nil, err
	}
	tok := &oauth2.Token{TokenType: "Bearer"}
	switch c := cred.GetCredentials().(type) {
	case *nexusv1.Credential_Oauth2:
		tok.AccessToken = c.Oauth2.GetAccessToken()
	case *nexusv1.Credential_Bearer:
		tok.AccessToken = c.Bearer.GetToken()
	default:
		return nil, fmt.Errorf("nexusauth: connection %s uses %s, which is not a bearer token", o.source.connectionID, cred.GetStrategy().GetType())
	}
	if exp := cred.GetExpireTime(); exp != nil {
		// Early by the source's margin, so that oauth2.ReuseTokenSource asks again
		// when this source would fetch a new token.
		tok.Expiry = exp.AsTime().Add(-o.source.RefreshMargin)
	}
	return tok, nil
}
