package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/gin-gonic/gin"
)

type handlers struct {
	store   Store
	welcome Welcome
}

// Welcome is the public document at GET /.
type Welcome struct {
	Name      string     `json:"name"`
	Message   string     `json:"message"`
	PageSize  int        `json:"pageSize"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint describes one route of the API in the welcome document.
type Endpoint struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Public      bool   `json:"public"`
	Scope       string `json:"scope,omitempty"` // empty and not public: any valid token
	Description string `json:"description"`
}

// newWelcome describes the routes that NewRouter registers.
func newWelcome(routes []route, scopes map[string]string) Welcome {
	w := Welcome{
		Name:     "PetStore API",
		Message:  "Call the endpoints that are not public with an OIDC access token: Authorization: Bearer ACCESS_TOKEN.",
		PageSize: PageSize,
	}
	for _, rt := range routes {
		w.Endpoints = append(w.Endpoints, Endpoint{
			Method: rt.method, Path: rt.path, Public: rt.access == public, Scope: scopes[rt.scope], Description: rt.description,
		})
	}
	return w
}

func (h *handlers) getWelcome(c *gin.Context) { c.JSON(http.StatusOK, h.welcome) }

// listPets answers GET /pets with a JSON array, as the PetStore of API
// Gateway's example does, PageSize pets by id from the cursor ?after=ID.
// X-Total-Count says how many pets match, and a Link header with
// rel="next" points to the next page when there is one.
func (h *handlers) listPets(c *gin.Context) {
	q := ListQuery{PageSize: PageSize}
	// Pages were once numbered (?page=N); a cursor replaced them, since ids
	// may have gaps. An old link gets a clear 400, not the first page again.
	if _, numbered := c.GetQuery("page"); numbered {
		abortWithError(c, http.StatusBadRequest, `page is not supported: follow the Link rel="next" header (?after=ID)`, "page")
		return
	}
	var ok bool
	if q.Type, ok = singleQuery(c, "type"); !ok {
		return
	}
	if q.Type != "" && !ValidPetType(q.Type) {
		abortWithError(c, http.StatusBadRequest, "type must be one of "+petTypeList, "type")
		return
	}
	after, ok := singleQuery(c, "after")
	if !ok {
		return
	}
	if after != "" {
		if q.After, ok = wholeNumber(after); !ok {
			abortWithError(c, http.StatusBadRequest, "after must be a pet id: a positive whole number", "after")
			return
		}
	}
	res, err := h.store.List(c.Request.Context(), q)
	if err != nil {
		storeFailed(c, err)
		return
	}
	c.Header("X-Total-Count", strconv.Itoa(res.Total))
	if res.More && len(res.Pets) > 0 {
		next := url.Values{"after": {strconv.FormatInt(res.Pets[len(res.Pets)-1].ID, 10)}}
		if q.Type != "" {
			next.Set("type", q.Type)
		}
		c.Header("Link", "<"+callerPath(c, "/pets")+"?"+next.Encode()+`>; rel="next"`)
	}
	c.JSON(http.StatusOK, res.Pets)
}

// singleQuery returns a query parameter that may be given at most once; an
// empty value counts as absent.
func singleQuery(c *gin.Context, name string) (string, bool) {
	values := c.QueryArray(name)
	if len(values) > 1 {
		abortWithError(c, http.StatusBadRequest, name+" must be given at most once", name)
		return "", false
	}
	if len(values) == 0 {
		return "", true
	}
	return values[0], true
}

func (h *handlers) getPet(c *gin.Context) {
	id, ok := wholeNumber(c.Param("petId"))
	if !ok {
		abortWithError(c, http.StatusBadRequest, "petId must be a positive whole number", "petId")
		return
	}
	pet, err := h.store.Get(c.Request.Context(), id)
	if errors.Is(err, ErrNotFound) {
		abortWithError(c, http.StatusNotFound, "pet "+strconv.FormatInt(id, 10)+" not found", "")
		return
	}
	if err != nil {
		storeFailed(c, err)
		return
	}
	c.JSON(http.StatusOK, pet)
}

// createPet answers POST /pets with 201, the new pet, and a Location the
// caller can GET: behind API Gateway it keeps the stage prefix the caller
// used (/Prod/pets/4), which the proxy event's path lacks.
func (h *handlers) createPet(c *gin.Context) {
	var ok bool
	n, status, reqErr := decodeNewPet(c.Request, c.Writer)
	if reqErr != nil {
		abortWithError(c, status, reqErr.Error, reqErr.Field)
		return
	}
	id, _ := IdentityFrom(c)
	n.CreatedBy = id.Principal
	if n.IdempotencyKey, ok = idempotencyKey(c); !ok {
		return
	}
	pet, err := h.store.Create(c.Request.Context(), n)
	if errors.Is(err, errCountLagging) {
		// Stored: the caller gets its pet; the log line (WARN) says the
		// total lags.
		c.Set(errorKey, "store: "+err.Error())
		err = nil
	}
	if errors.Is(err, ErrStoreFull) {
		abortWithError(c, http.StatusInsufficientStorage, "the store is full: it holds at most "+strconv.Itoa(MaxPets)+" pets", "")
		return
	}
	if err != nil {
		storeFailed(c, err)
		return
	}
	c.Header("Location", callerPath(c, "/pets/"+strconv.FormatInt(pet.ID, 10)))
	c.JSON(http.StatusCreated, pet)
}

// idempotencyKey reads the optional Idempotency-Key header: 1 to
// MaxIdempotencyKey visible ASCII characters, given once.
func idempotencyKey(c *gin.Context) (string, bool) {
	values := c.Request.Header.Values("Idempotency-Key")
	if len(values) == 0 {
		return "", true
	}
	k := values[0]
	valid := len(values) == 1 && k != "" && len(k) <= MaxIdempotencyKey
	for i := 0; valid && i < len(k); i++ {
		valid = k[i] > ' ' && k[i] < 0x7f
	}
	if !valid {
		abortWithError(c, http.StatusBadRequest, "Idempotency-Key must be given once, 1 to "+strconv.Itoa(MaxIdempotencyKey)+" visible ASCII characters", "Idempotency-Key")
		return "", false
	}
	return k, true
}

func (h *handlers) me(c *gin.Context) {
	id, _ := IdentityFrom(c)
	c.JSON(http.StatusOK, id)
}

// wholeNumber reads a positive whole number written the one way: digits,
// no sign, no leading zero ("+2" and "002" are not 2: one resource, one
// URL).
func wholeNumber(s string) (int64, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// UnavailableMessage is the error of a 503: the store failed in a way that
// may pass (throttling, an unreachable endpoint, a timeout).
const UnavailableMessage = "the pet store is unavailable, try again shortly"

// OutcomeUnknownMessage is the error of a 503 for a create whose write
// may have been stored: a retry with the same Idempotency-Key is safe, a
// retry without one may store the pet twice.
const OutcomeUnknownMessage = "the pet store did not confirm the create: the pet may be stored; retry with the same Idempotency-Key, or list the pets first"

// storeFailed answers a store error: 503 with Retry-After when it may pass,
// otherwise 500 (a missing table, missing permissions, an item the store
// cannot read). The caller learns nothing more; the request log has the
// message, DynamoDB's reason and the AWS request id.
func storeFailed(c *gin.Context, err error) {
	c.Set(errorKey, "store: "+err.Error())
	var se *StoreError
	if errors.As(err, &se) {
		c.Set(storeReasonKey, se.Reason)
		c.Set(awsRequestIDKey, se.RequestID)
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, ErrorBody{Error: OutcomeUnknownMessage})
		return
	}
	if errors.Is(err, ErrUnavailable) {
		c.Header("Retry-After", "1")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, ErrorBody{Error: UnavailableMessage})
		return
	}
	c.AbortWithStatusJSON(http.StatusInternalServerError, ErrorBody{Error: "internal error"})
}

// callerPath turns a path of the API (/pets/4) into the absolute path the
// caller used to reach it. Behind API Gateway that path has a prefix that
// the proxy event's path lacks: the stage on the execute-api domain
// (/Prod/pets/4), a base path on a custom domain, nothing on a custom
// domain without one.
// The request context's path is what the caller used, so the prefix is
// whatever precedes the event's path in it.
func callerPath(c *gin.Context, apiPath string) string {
	gw, ok := core.GetAPIGatewayContextFromContext(c.Request.Context())
	if !ok {
		return apiPath
	}
	for _, p := range []string{c.Request.URL.Path, c.Request.URL.EscapedPath()} {
		if prefix, found := strings.CutSuffix(gw.Path, p); found && safePrefix(prefix) {
			return prefix + apiPath
		}
	}
	return apiPath
}

// safePrefix accepts "" or a path such as /Prod, and refuses anything a
// browser could read as another host (//host, /\host).
func safePrefix(p string) bool {
	if p == "" {
		return true
	}
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\?#")
}
