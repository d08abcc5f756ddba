package policy

import "slices"

// WhatIfResult says what conditional access would do for a user, an application or user
// action, a platform and an address.
type WhatIfResult struct {
	// Applied are the results of the policies that apply (enforced or report-only).
	Applied []PolicyResult `json:"applied"`
	// Blocked reports whether an enforced policy blocks.
	Blocked bool `json:"blocked"`
	// Demanded are the strengths enforced policies demand; ReportOnlyDemanded those report-only
	// policies would demand once enforced.
	Demanded           []string `json:"demanded"`
	ReportOnlyDemanded []string `json:"reportOnlyDemanded"`
	// Meeting are the indexes into registered of the methods that meet every demanded strength.
	Meeting []int `json:"meeting"`
	// CanMeet reports whether the user can get in: not blocked, and nothing demanded or one
	// registered method meets all of it.
	CanMeet bool `json:"canMeet"`
}

// WhatIf evaluates policies for req as if nothing had been presented yet (req.Presented is
// ignored) and checks the user's registered methods against what is demanded.
func WhatIf(policies []ConditionalAccessPolicy, strengths map[string]Strength, req Request, registered []AuthenticationContext) WhatIfResult {
	req.Presented, req.Registered, req.AuthAge = AuthenticationContext{}, registered, 0
	ev := EvaluateConditionalAccess(policies, strengths, req)
	res := WhatIfResult{Applied: []PolicyResult{}, Demanded: []string{}, ReportOnlyDemanded: []string{}, Meeting: []int{}}
	for i, r := range ev.Results {
		switch r.Result {
		case ResultNotApplied, ResultReportOnlyNotApplied:
			continue
		}
		res.Applied = append(res.Applied, r)
		p := policies[i]
		if p.Grant.Block {
			res.Blocked = res.Blocked || p.State == CAStateEnabled
			continue
		}
		list := &res.Demanded
		if p.State == CAStateReportOnly {
			list = &res.ReportOnlyDemanded
		}
		if !slices.Contains(*list, p.Grant.StrengthID) {
			*list = append(*list, p.Grant.StrengthID)
		}
	}
	res.Blocked = res.Blocked || ev.Decision == DecisionBlock
	for i, c := range registered {
		ok := true
		for _, id := range res.Demanded {
			if met, _ := strengths[id].SatisfiedBy(c); !met {
				ok = false
				break
			}
		}
		if ok {
			res.Meeting = append(res.Meeting, i)
		}
	}
	res.CanMeet = !res.Blocked && (len(res.Demanded) == 0 || len(res.Meeting) > 0)
	return res
}
