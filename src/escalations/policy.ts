import type { Catalogue } from '../catalogue/catalogue.ts'
import { hasRole, type Principal } from '../policy/principal.ts'

// Who signs off a participant's removal, and who may work an escalation case.
//
// The rule is lead-provider policy held as data: `removal_sign_off` in catalogue/policies/<lp>.yaml.
// `delivery-partner-and-lead-provider` is a joint decision (EDT, seed 004: "made jointly between the
// Delivery Partner and Education Development Trust"; UCL too, by default, since seeds 000 and 001 say
// nothing about removal); `delivery-partner` leaves it with the partner (Ambition, seed 003: "Final sign
// off on withdrawing a participant ... sits with the partner").
//
// Removal is proposed by a delivery-partner lead, and the proposal carries the partner's approval: the
// partner is the one asking. A joint decision then needs a lead-provider admin's approval as well; a
// partner's decision is complete when proposed, so the proposal form asks the lead to confirm it.

export type RemovalSignOff = 'joint' | 'delivery-partner'
export type Party = 'delivery-partner' | 'lead-provider'

export function removalSignOffOf(catalogue: Catalogue, leadProvider: string): RemovalSignOff {
  // A provider without a policy file gets the stricter rule: both must agree.
  return catalogue.policy(leadProvider)?.removal_sign_off === 'delivery-partner' ? 'delivery-partner' : 'joint'
}

/** The parties whose approval a removal needs. */
export function partiesToSignOff(rule: RemovalSignOff): Party[] {
  return rule === 'joint' ? ['delivery-partner', 'lead-provider'] : ['delivery-partner']
}

/** The parties still to approve, given who has (the proposing partner counts as having approved). */
export function awaitingSignOff(rule: RemovalSignOff, approvedBy: Iterable<Party>): Party[] {
  const approved = new Set(approvedBy)
  return partiesToSignOff(rule).filter((p) => !approved.has(p))
}

export function signOffComplete(rule: RemovalSignOff, approvedBy: Iterable<Party>): boolean {
  return awaitingSignOff(rule, approvedBy).length === 0
}

export type CaseRef = { leadProviderId: string; deliveryPartnerId: string | null }

export type CaseAccess = {
  view: boolean
  /** Agree extensions, log contact, record support, propose removal or take a proposal back. */
  work: boolean
  /** The party this person approves or rejects a removal for, if any. */
  party: Party | null
}

const none: CaseAccess = { view: false, work: false, party: null }

/**
 * What a person may do with a case in one area of the site: delivery-partner leads with their own
 * partner's participants' cases; lead-provider admins see their provider's cases and decide removals.
 */
export function caseAccess(p: Principal, area: 'delivery-partner' | 'lead-provider', c: CaseRef): CaseAccess {
  if (area === 'delivery-partner') {
    const lead = c.deliveryPartnerId !== null && hasRole(p, 'delivery-partner-lead', c.deliveryPartnerId)
    return lead ? { view: true, work: true, party: 'delivery-partner' } : none
  }
  return hasRole(p, 'lead-provider-admin', c.leadProviderId) ? { view: true, work: false, party: 'lead-provider' } : none
}
