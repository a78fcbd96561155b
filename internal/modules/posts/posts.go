package posts

import (
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Statuses a post may have.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// customize sets what is particular to posts: drafts are seen only by their author
// and admins — elsewhere they do not exist (404), and lists hold only published
// posts unless they ask for the caller's own; a publication is announced by a job
// (see PublishedArgs).
func (m *Module) customize() {
	m.rules.AfterWrite = announce
	m.rules.CanRead = func(p authn.Principal, post sqlc.Post) bool {
		return post.Status == StatusPublished || m.rules.CanWrite(p, post)
	}
	m.rules.Scope = func(p authn.Principal, f *Filter) bool {
		if p.IsAdmin() || (p.UserID != 0 && f.AuthorID != nil && *f.AuthorID == p.UserID) {
			return false
		}
		asked := f.Status
		f.Status = new(string)
		*f.Status = StatusPublished
		return asked != nil && *asked != StatusPublished
	}
	m.rules.Describe = map[string]string{
		"listPosts": "Published posts for everyone; drafts only for their author (filtering on author_id = self) and admins. " +
			"Keyset pagination: pass next_cursor back as cursor. A cursor only works with the sort and filters it was issued for.",
		"getPost": "Published posts are public; a draft is found only by its author and admins.",
	}
}
