/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.LogInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n": typeof types.SignUpDocument,
    "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n": typeof types.RequestMagicLinkDocument,
    "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.VerifyMagicLinkDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": typeof types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": typeof types.VerifyEmailDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.AcceptInvitationDocument,
    "\n  query HostTenant {\n    hostTenant {\n      id\n      name\n      displayName\n      logoUrl\n      primaryColor\n      accentColor\n    }\n  }\n": typeof types.HostTenantDocument,
    "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenantRefusal\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": typeof types.RequestEmailVerificationDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  query AdminTenants(\n    $first: Int\n    $after: String\n    $search: String\n    $status: TenantStatus\n    $plan: String\n    $orderBy: TenantOrder\n  ) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $orderBy) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          name\n          slug\n          status\n          planKey\n          memberCount\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.AdminTenantsDocument,
    "\n  query AdminTenant($id: ID!, $from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenant(id: $id) {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        createdAt\n        memberCount\n        plan {\n          key\n          name\n        }\n        members(first: 50) {\n          nodes {\n            role\n            joinedAt\n            user {\n              id\n              email\n            }\n          }\n        }\n        apiKeys(first: 50) {\n          nodes {\n            id\n            name\n            displayPrefix\n            environment\n            state\n            scopes\n            lastUsedAt\n            createdAt\n          }\n        }\n        billing {\n          configured\n          warning\n          subscription {\n            status\n            planKey\n            interval\n            currentPeriodEnd\n            cancelAtPeriodEnd\n            trialEnd\n          }\n        }\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": typeof types.AdminTenantDocument,
    "\n  query AdminTenantAudit($id: ID!, $after: String) {\n    admin {\n      tenant(id: $id) {\n        id\n        auditLog(first: 20, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            id\n            action\n            actorType\n            actorLabel\n            ip\n            createdAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.AdminTenantAuditDocument,
    "\n  mutation SuspendTenant($id: ID!, $reason: String!) {\n    suspendTenant(id: $id, reason: $reason) {\n      id\n      status\n      statusReason\n    }\n  }\n": typeof types.SuspendTenantDocument,
    "\n  mutation ReactivateTenant($id: ID!) {\n    reactivateTenant(id: $id) {\n      id\n      status\n      statusReason\n    }\n  }\n": typeof types.ReactivateTenantDocument,
    "\n  mutation SetTenantPlan($tenantId: ID!, $planKey: String!) {\n    setTenantPlan(tenantId: $tenantId, planKey: $planKey) {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n  }\n": typeof types.SetTenantPlanDocument,
    "\n  query AdminStats($from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      stats {\n        tenants\n        activeTenants\n        suspendedTenants\n        users\n        activeUsers\n        tenantsByPlan {\n          planKey\n          tenants\n        }\n        activeSubscriptions\n        mrr {\n          currency\n          amount\n        }\n        byPlan {\n          planKey\n          activeSubscriptions\n          mrr {\n            currency\n            amount\n          }\n        }\n        apiCallsToday\n        eventsToday\n      }\n      usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n        total\n        points {\n          at\n          value\n        }\n      }\n      topConsumers(metric: \"api_calls\", from: $from, to: $to, first: 10) {\n        total\n        tenant {\n          id\n          name\n          slug\n        }\n      }\n    }\n  }\n": typeof types.AdminStatsDocument,
    "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n": typeof types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n": typeof types.AuditActorsDocument,
    "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n": typeof types.AuditEventsDocument,
    "\n  query BillingBanner {\n    tenant {\n      id\n      billing {\n        warning\n        subscription {\n          status\n          trialEnd\n          cancelAtPeriodEnd\n          plan {\n            key\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.BillingBannerDocument,
    "\n  query BillingPlans {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n    plans {\n      key\n      name\n      monthlyPrice {\n        amount\n        currency\n        formatted\n      }\n      yearlyPrice {\n        amount\n        currency\n        formatted\n      }\n      limits {\n        members\n        apiCallsPerHour\n        monthlyQuotas {\n          metric\n          limit\n        }\n      }\n      features {\n        customBranding\n        auditRetentionDays\n        ssoReady\n        customDomain\n      }\n      trialDays\n    }\n  }\n": typeof types.BillingPlansDocument,
    "\n  query TenantBilling($first: Int!, $after: String) {\n    tenant {\n      id\n      planKey\n      billing {\n        configured\n        customerPortalAvailable\n        warning\n        subscription {\n          status\n          planKey\n          plan {\n            key\n            name\n          }\n          interval\n          currentPeriodStart\n          currentPeriodEnd\n          cancelAtPeriodEnd\n          trialEnd\n          canceledAt\n        }\n        invoices(first: $first, after: $after) {\n          nodes {\n            id\n            number\n            status\n            total\n            currency\n            hostedInvoiceUrl\n            pdfUrl\n            periodStart\n            periodEnd\n            createdAt\n          }\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n        }\n      }\n    }\n  }\n": typeof types.TenantBillingDocument,
    "\n  mutation CreateCheckoutSession($planKey: String!, $interval: BillingInterval!) {\n    createCheckoutSession(planKey: $planKey, interval: $interval) {\n      id\n      url\n    }\n  }\n": typeof types.CreateCheckoutSessionDocument,
    "\n  mutation CreateBillingPortalSession {\n    createBillingPortalSession {\n      url\n    }\n  }\n": typeof types.CreateBillingPortalSessionDocument,
    "\n  mutation ChangePlan($planKey: String!, $interval: BillingInterval!) {\n    changePlan(planKey: $planKey, interval: $interval) {\n      status\n      planKey\n      interval\n    }\n  }\n": typeof types.ChangePlanDocument,
    "\n  mutation CancelSubscription($atPeriodEnd: Boolean!) {\n    cancelSubscription(atPeriodEnd: $atPeriodEnd) {\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n    }\n  }\n": typeof types.CancelSubscriptionDocument,
    "\n  mutation ResumeSubscription {\n    resumeSubscription {\n      status\n      cancelAtPeriodEnd\n    }\n  }\n": typeof types.ResumeSubscriptionDocument,
    "\n  query CustomDomain {\n    tenant {\n      id\n      plan {\n        key\n        name\n        features {\n          customDomain\n        }\n      }\n      customDomain {\n        domain\n        status\n        recordName\n        recordValue\n        verifiedAt\n        lastCheckedAt\n        lastResult\n        missingSince\n      }\n    }\n  }\n": typeof types.CustomDomainDocument,
    "\n  mutation SetCustomDomain($domain: String!) {\n    setCustomDomain(domain: $domain) {\n      domain\n      status\n    }\n  }\n": typeof types.SetCustomDomainDocument,
    "\n  mutation VerifyCustomDomain {\n    verifyCustomDomain {\n      domain\n      status\n      lastResult\n    }\n  }\n": typeof types.VerifyCustomDomainDocument,
    "\n  mutation RemoveCustomDomain {\n    removeCustomDomain\n  }\n": typeof types.RemoveCustomDomainDocument,
    "\n  query TenantDeletion {\n    tenant {\n      id\n      slug\n      name\n      status\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": typeof types.TenantDeletionDocument,
    "\n  mutation DeleteTenant($confirmSlug: String!) {\n    deleteTenant(confirmSlug: $confirmSlug) {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": typeof types.DeleteTenantDocument,
    "\n  mutation CancelTenantDeletion {\n    cancelTenantDeletion {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": typeof types.CancelTenantDeletionDocument,
    "\n  mutation DeleteMyAccount {\n    deleteMyAccount\n  }\n": typeof types.DeleteMyAccountDocument,
    "\n  mutation Reauthenticate($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.ReauthenticateDocument,
    "\n  mutation PurgeTenant($id: ID!) {\n    purgeTenant(id: $id) {\n      peopleErased\n      rowsDeleted\n      tombstone {\n        id\n        purgedAt\n        reason\n      }\n    }\n  }\n": typeof types.PurgeTenantDocument,
    "\n  fragment DataExportFields on DataExport {\n    id\n    kind\n    status\n    progress\n    createdAt\n    finishedAt\n    expiresAt\n    sizeBytes\n    checksum\n    error\n  }\n": typeof types.DataExportFieldsFragmentDoc,
    "\n  query TenantDataExports {\n    tenant {\n      id\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n": typeof types.TenantDataExportsDocument,
    "\n  query MyDataExports {\n    viewer {\n      user {\n        id\n        email\n      }\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n": typeof types.MyDataExportsDocument,
    "\n  mutation RequestDataExport {\n    requestDataExport {\n      ...DataExportFields\n    }\n  }\n": typeof types.RequestDataExportDocument,
    "\n  mutation RequestMyDataExport {\n    requestMyDataExport {\n      ...DataExportFields\n    }\n  }\n": typeof types.RequestMyDataExportDocument,
    "\n  query TenantExportLink($id: ID!) {\n    tenant {\n      id\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n": typeof types.TenantExportLinkDocument,
    "\n  query MyExportLink($id: ID!) {\n    viewer {\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n": typeof types.MyExportLinkDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n": typeof types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n": typeof types.KeyCreatorsDocument,
    "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": typeof types.ApiKeyDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": typeof types.RotateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  query Publishable {\n    tenant {\n      id\n      publishableKeys {\n        id\n        name\n        environment\n        key\n        createdAt\n        revokedAt\n      }\n      allowedOrigins {\n        origin\n        createdAt\n      }\n    }\n  }\n": typeof types.PublishableDocument,
    "\n  mutation CreatePublishableKey($input: CreatePublishableKeyInput!) {\n    createPublishableKey(input: $input) {\n      id\n      name\n      environment\n      key\n      createdAt\n      revokedAt\n    }\n  }\n": typeof types.CreatePublishableKeyDocument,
    "\n  mutation RevokePublishableKey($id: ID!) {\n    revokePublishableKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": typeof types.RevokePublishableKeyDocument,
    "\n  mutation AddAllowedOrigin($origin: String!) {\n    addAllowedOrigin(origin: $origin) {\n      origin\n      createdAt\n    }\n  }\n": typeof types.AddAllowedOriginDocument,
    "\n  mutation RemoveAllowedOrigin($origin: String!) {\n    removeAllowedOrigin(origin: $origin)\n  }\n": typeof types.RemoveAllowedOriginDocument,
    "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": typeof types.TenantSettingsDocument,
    "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": typeof types.UpdateTenantDocument,
    "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TeamMembersDocument,
    "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after, filter: OPEN) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.TeamInvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n": typeof types.InviteMemberDocument,
    "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n": typeof types.ResendInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n": typeof types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n": typeof types.LeaveTenantDocument,
    "\n  query Quotas {\n    tenant {\n      id\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": typeof types.QuotasDocument,
    "\n  query UsageMetrics {\n    metrics {\n      key\n      name\n      unit\n      aggregation\n    }\n  }\n": typeof types.UsageMetricsDocument,
    "\n  query UsageSeries($metric: String!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      usage(metric: $metric, from: $from, to: $to, granularity: $granularity) {\n        metric\n        granularity\n        from\n        to\n        total\n        totalExact\n        points {\n          at\n          value\n        }\n      }\n    }\n  }\n": typeof types.UsageSeriesDocument,
    "\n  subscription UsageUpdated {\n    usageUpdated {\n      metric\n      used\n      limit\n      percent\n      resetsAt\n    }\n  }\n": typeof types.UsageUpdatedDocument,
    "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id\n    url\n    description\n    eventTypes\n    enabled\n    disabledReason\n    disabledAt\n    failingSince\n    previousSecretExpiresAt\n    createdAt\n    updatedAt\n  }\n": typeof types.WebhookEndpointFieldsFragmentDoc,
    "\n  fragment WebhookAttemptFields on WebhookAttempt {\n    id\n    attemptedAt\n    statusCode\n    latencyMs\n    responseExcerpt\n    error\n  }\n": typeof types.WebhookAttemptFieldsFragmentDoc,
    "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id\n    endpointId\n    eventId\n    eventType\n    payload\n    status\n    attemptCount\n    nextAttemptAt\n    replayOf\n    createdAt\n    completedAt\n    attempts {\n      ...WebhookAttemptFields\n    }\n  }\n": typeof types.WebhookDeliveryFieldsFragmentDoc,
    "\n  query WebhookEndpoints {\n    tenant {\n      id\n      webhookEndpoints {\n        ...WebhookEndpointFields\n        deliveries(first: 1) {\n          nodes {\n            id\n            eventType\n            status\n            createdAt\n            completedAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.WebhookEndpointsDocument,
    "\n  query WebhookEndpoint($id: ID!, $first: Int!, $after: String) {\n    tenant {\n      id\n      webhookEndpoint(id: $id) {\n        ...WebhookEndpointFields\n        deliveries(first: $first, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            ...WebhookDeliveryFields\n          }\n        }\n      }\n    }\n  }\n": typeof types.WebhookEndpointDocument,
    "\n  query WebhookEventTypes {\n    webhookEventTypes\n  }\n": typeof types.WebhookEventTypesDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n": typeof types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(input: $input) {\n      ...WebhookEndpointFields\n    }\n  }\n": typeof types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id) {\n      id\n    }\n  }\n": typeof types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation SendTestWebhook($id: ID!) {\n    sendTestWebhook(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n": typeof types.SendTestWebhookDocument,
    "\n  mutation ReplayWebhookDelivery($id: ID!) {\n    replayWebhookDelivery(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n": typeof types.ReplayWebhookDeliveryDocument,
    "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n": typeof types.RefreshSessionDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": typeof types.LogOutDocument,
    "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n": typeof types.SwitchTenantDocument,
};
const documents: Documents = {
    "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.LogInDocument,
    "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n": types.SignUpDocument,
    "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n": types.RequestMagicLinkDocument,
    "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.VerifyMagicLinkDocument,
    "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n": types.RequestPasswordResetDocument,
    "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.ResetPasswordDocument,
    "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n": types.VerifyEmailDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.AcceptInvitationDocument,
    "\n  query HostTenant {\n    hostTenant {\n      id\n      name\n      displayName\n      logoUrl\n      primaryColor\n      accentColor\n    }\n  }\n": types.HostTenantDocument,
    "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenantRefusal\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n": types.ViewerDocument,
    "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n": types.RequestEmailVerificationDocument,
    "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": types.OverviewDocument,
    "\n  query AdminTenants(\n    $first: Int\n    $after: String\n    $search: String\n    $status: TenantStatus\n    $plan: String\n    $orderBy: TenantOrder\n  ) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $orderBy) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          name\n          slug\n          status\n          planKey\n          memberCount\n          createdAt\n        }\n      }\n    }\n  }\n": types.AdminTenantsDocument,
    "\n  query AdminTenant($id: ID!, $from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenant(id: $id) {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        createdAt\n        memberCount\n        plan {\n          key\n          name\n        }\n        members(first: 50) {\n          nodes {\n            role\n            joinedAt\n            user {\n              id\n              email\n            }\n          }\n        }\n        apiKeys(first: 50) {\n          nodes {\n            id\n            name\n            displayPrefix\n            environment\n            state\n            scopes\n            lastUsedAt\n            createdAt\n          }\n        }\n        billing {\n          configured\n          warning\n          subscription {\n            status\n            planKey\n            interval\n            currentPeriodEnd\n            cancelAtPeriodEnd\n            trialEnd\n          }\n        }\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": types.AdminTenantDocument,
    "\n  query AdminTenantAudit($id: ID!, $after: String) {\n    admin {\n      tenant(id: $id) {\n        id\n        auditLog(first: 20, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            id\n            action\n            actorType\n            actorLabel\n            ip\n            createdAt\n          }\n        }\n      }\n    }\n  }\n": types.AdminTenantAuditDocument,
    "\n  mutation SuspendTenant($id: ID!, $reason: String!) {\n    suspendTenant(id: $id, reason: $reason) {\n      id\n      status\n      statusReason\n    }\n  }\n": types.SuspendTenantDocument,
    "\n  mutation ReactivateTenant($id: ID!) {\n    reactivateTenant(id: $id) {\n      id\n      status\n      statusReason\n    }\n  }\n": types.ReactivateTenantDocument,
    "\n  mutation SetTenantPlan($tenantId: ID!, $planKey: String!) {\n    setTenantPlan(tenantId: $tenantId, planKey: $planKey) {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n  }\n": types.SetTenantPlanDocument,
    "\n  query AdminStats($from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      stats {\n        tenants\n        activeTenants\n        suspendedTenants\n        users\n        activeUsers\n        tenantsByPlan {\n          planKey\n          tenants\n        }\n        activeSubscriptions\n        mrr {\n          currency\n          amount\n        }\n        byPlan {\n          planKey\n          activeSubscriptions\n          mrr {\n            currency\n            amount\n          }\n        }\n        apiCallsToday\n        eventsToday\n      }\n      usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n        total\n        points {\n          at\n          value\n        }\n      }\n      topConsumers(metric: \"api_calls\", from: $from, to: $to, first: 10) {\n        total\n        tenant {\n          id\n          name\n          slug\n        }\n      }\n    }\n  }\n": types.AdminStatsDocument,
    "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n": types.AuditEntryFieldsFragmentDoc,
    "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n": types.AuditActorsDocument,
    "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n": types.AuditEventsDocument,
    "\n  query BillingBanner {\n    tenant {\n      id\n      billing {\n        warning\n        subscription {\n          status\n          trialEnd\n          cancelAtPeriodEnd\n          plan {\n            key\n            name\n          }\n        }\n      }\n    }\n  }\n": types.BillingBannerDocument,
    "\n  query BillingPlans {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n    plans {\n      key\n      name\n      monthlyPrice {\n        amount\n        currency\n        formatted\n      }\n      yearlyPrice {\n        amount\n        currency\n        formatted\n      }\n      limits {\n        members\n        apiCallsPerHour\n        monthlyQuotas {\n          metric\n          limit\n        }\n      }\n      features {\n        customBranding\n        auditRetentionDays\n        ssoReady\n        customDomain\n      }\n      trialDays\n    }\n  }\n": types.BillingPlansDocument,
    "\n  query TenantBilling($first: Int!, $after: String) {\n    tenant {\n      id\n      planKey\n      billing {\n        configured\n        customerPortalAvailable\n        warning\n        subscription {\n          status\n          planKey\n          plan {\n            key\n            name\n          }\n          interval\n          currentPeriodStart\n          currentPeriodEnd\n          cancelAtPeriodEnd\n          trialEnd\n          canceledAt\n        }\n        invoices(first: $first, after: $after) {\n          nodes {\n            id\n            number\n            status\n            total\n            currency\n            hostedInvoiceUrl\n            pdfUrl\n            periodStart\n            periodEnd\n            createdAt\n          }\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n        }\n      }\n    }\n  }\n": types.TenantBillingDocument,
    "\n  mutation CreateCheckoutSession($planKey: String!, $interval: BillingInterval!) {\n    createCheckoutSession(planKey: $planKey, interval: $interval) {\n      id\n      url\n    }\n  }\n": types.CreateCheckoutSessionDocument,
    "\n  mutation CreateBillingPortalSession {\n    createBillingPortalSession {\n      url\n    }\n  }\n": types.CreateBillingPortalSessionDocument,
    "\n  mutation ChangePlan($planKey: String!, $interval: BillingInterval!) {\n    changePlan(planKey: $planKey, interval: $interval) {\n      status\n      planKey\n      interval\n    }\n  }\n": types.ChangePlanDocument,
    "\n  mutation CancelSubscription($atPeriodEnd: Boolean!) {\n    cancelSubscription(atPeriodEnd: $atPeriodEnd) {\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n    }\n  }\n": types.CancelSubscriptionDocument,
    "\n  mutation ResumeSubscription {\n    resumeSubscription {\n      status\n      cancelAtPeriodEnd\n    }\n  }\n": types.ResumeSubscriptionDocument,
    "\n  query CustomDomain {\n    tenant {\n      id\n      plan {\n        key\n        name\n        features {\n          customDomain\n        }\n      }\n      customDomain {\n        domain\n        status\n        recordName\n        recordValue\n        verifiedAt\n        lastCheckedAt\n        lastResult\n        missingSince\n      }\n    }\n  }\n": types.CustomDomainDocument,
    "\n  mutation SetCustomDomain($domain: String!) {\n    setCustomDomain(domain: $domain) {\n      domain\n      status\n    }\n  }\n": types.SetCustomDomainDocument,
    "\n  mutation VerifyCustomDomain {\n    verifyCustomDomain {\n      domain\n      status\n      lastResult\n    }\n  }\n": types.VerifyCustomDomainDocument,
    "\n  mutation RemoveCustomDomain {\n    removeCustomDomain\n  }\n": types.RemoveCustomDomainDocument,
    "\n  query TenantDeletion {\n    tenant {\n      id\n      slug\n      name\n      status\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": types.TenantDeletionDocument,
    "\n  mutation DeleteTenant($confirmSlug: String!) {\n    deleteTenant(confirmSlug: $confirmSlug) {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": types.DeleteTenantDocument,
    "\n  mutation CancelTenantDeletion {\n    cancelTenantDeletion {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n": types.CancelTenantDeletionDocument,
    "\n  mutation DeleteMyAccount {\n    deleteMyAccount\n  }\n": types.DeleteMyAccountDocument,
    "\n  mutation Reauthenticate($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.ReauthenticateDocument,
    "\n  mutation PurgeTenant($id: ID!) {\n    purgeTenant(id: $id) {\n      peopleErased\n      rowsDeleted\n      tombstone {\n        id\n        purgedAt\n        reason\n      }\n    }\n  }\n": types.PurgeTenantDocument,
    "\n  fragment DataExportFields on DataExport {\n    id\n    kind\n    status\n    progress\n    createdAt\n    finishedAt\n    expiresAt\n    sizeBytes\n    checksum\n    error\n  }\n": types.DataExportFieldsFragmentDoc,
    "\n  query TenantDataExports {\n    tenant {\n      id\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n": types.TenantDataExportsDocument,
    "\n  query MyDataExports {\n    viewer {\n      user {\n        id\n        email\n      }\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n": types.MyDataExportsDocument,
    "\n  mutation RequestDataExport {\n    requestDataExport {\n      ...DataExportFields\n    }\n  }\n": types.RequestDataExportDocument,
    "\n  mutation RequestMyDataExport {\n    requestMyDataExport {\n      ...DataExportFields\n    }\n  }\n": types.RequestMyDataExportDocument,
    "\n  query TenantExportLink($id: ID!) {\n    tenant {\n      id\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n": types.TenantExportLinkDocument,
    "\n  query MyExportLink($id: ID!) {\n    viewer {\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n": types.MyExportLinkDocument,
    "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n": types.ApiKeyFieldsFragmentDoc,
    "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n": types.ApiKeysDocument,
    "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n": types.KeyCreatorsDocument,
    "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n": types.ApiKeyDocument,
    "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n": types.RotateApiKeyDocument,
    "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n": types.RevokeApiKeyDocument,
    "\n  query Publishable {\n    tenant {\n      id\n      publishableKeys {\n        id\n        name\n        environment\n        key\n        createdAt\n        revokedAt\n      }\n      allowedOrigins {\n        origin\n        createdAt\n      }\n    }\n  }\n": types.PublishableDocument,
    "\n  mutation CreatePublishableKey($input: CreatePublishableKeyInput!) {\n    createPublishableKey(input: $input) {\n      id\n      name\n      environment\n      key\n      createdAt\n      revokedAt\n    }\n  }\n": types.CreatePublishableKeyDocument,
    "\n  mutation RevokePublishableKey($id: ID!) {\n    revokePublishableKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n": types.RevokePublishableKeyDocument,
    "\n  mutation AddAllowedOrigin($origin: String!) {\n    addAllowedOrigin(origin: $origin) {\n      origin\n      createdAt\n    }\n  }\n": types.AddAllowedOriginDocument,
    "\n  mutation RemoveAllowedOrigin($origin: String!) {\n    removeAllowedOrigin(origin: $origin)\n  }\n": types.RemoveAllowedOriginDocument,
    "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": types.TenantSettingsDocument,
    "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n": types.UpdateTenantDocument,
    "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TeamMembersDocument,
    "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after, filter: OPEN) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.TeamInvitationsDocument,
    "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n": types.InviteMemberDocument,
    "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n": types.ResendInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n": types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n": types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": types.RemoveMemberDocument,
    "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n": types.LeaveTenantDocument,
    "\n  query Quotas {\n    tenant {\n      id\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n": types.QuotasDocument,
    "\n  query UsageMetrics {\n    metrics {\n      key\n      name\n      unit\n      aggregation\n    }\n  }\n": types.UsageMetricsDocument,
    "\n  query UsageSeries($metric: String!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      usage(metric: $metric, from: $from, to: $to, granularity: $granularity) {\n        metric\n        granularity\n        from\n        to\n        total\n        totalExact\n        points {\n          at\n          value\n        }\n      }\n    }\n  }\n": types.UsageSeriesDocument,
    "\n  subscription UsageUpdated {\n    usageUpdated {\n      metric\n      used\n      limit\n      percent\n      resetsAt\n    }\n  }\n": types.UsageUpdatedDocument,
    "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id\n    url\n    description\n    eventTypes\n    enabled\n    disabledReason\n    disabledAt\n    failingSince\n    previousSecretExpiresAt\n    createdAt\n    updatedAt\n  }\n": types.WebhookEndpointFieldsFragmentDoc,
    "\n  fragment WebhookAttemptFields on WebhookAttempt {\n    id\n    attemptedAt\n    statusCode\n    latencyMs\n    responseExcerpt\n    error\n  }\n": types.WebhookAttemptFieldsFragmentDoc,
    "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id\n    endpointId\n    eventId\n    eventType\n    payload\n    status\n    attemptCount\n    nextAttemptAt\n    replayOf\n    createdAt\n    completedAt\n    attempts {\n      ...WebhookAttemptFields\n    }\n  }\n": types.WebhookDeliveryFieldsFragmentDoc,
    "\n  query WebhookEndpoints {\n    tenant {\n      id\n      webhookEndpoints {\n        ...WebhookEndpointFields\n        deliveries(first: 1) {\n          nodes {\n            id\n            eventType\n            status\n            createdAt\n            completedAt\n          }\n        }\n      }\n    }\n  }\n": types.WebhookEndpointsDocument,
    "\n  query WebhookEndpoint($id: ID!, $first: Int!, $after: String) {\n    tenant {\n      id\n      webhookEndpoint(id: $id) {\n        ...WebhookEndpointFields\n        deliveries(first: $first, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            ...WebhookDeliveryFields\n          }\n        }\n      }\n    }\n  }\n": types.WebhookEndpointDocument,
    "\n  query WebhookEventTypes {\n    webhookEventTypes\n  }\n": types.WebhookEventTypesDocument,
    "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n": types.CreateWebhookEndpointDocument,
    "\n  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(input: $input) {\n      ...WebhookEndpointFields\n    }\n  }\n": types.UpdateWebhookEndpointDocument,
    "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id) {\n      id\n    }\n  }\n": types.DeleteWebhookEndpointDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation SendTestWebhook($id: ID!) {\n    sendTestWebhook(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n": types.SendTestWebhookDocument,
    "\n  mutation ReplayWebhookDelivery($id: ID!) {\n    replayWebhookDelivery(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n": types.ReplayWebhookDeliveryDocument,
    "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n": types.RefreshSessionDocument,
    "\n  mutation LogOut {\n    logOut\n  }\n": types.LogOutDocument,
    "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n": types.SwitchTenantDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation LogIn($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SignUp($input: SignUpInput!) {\n    signUp(input: $input) {\n      accessToken\n      expiresAt\n      tenant {\n        id\n        name\n        slug\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestMagicLink($email: String!) {\n    requestMagicLink(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyMagicLink($token: String!) {\n    verifyMagicLink(token: $token) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"): (typeof documents)["\n  mutation RequestPasswordReset($email: String!) {\n    requestPasswordReset(email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ResetPassword($token: String!, $newPassword: String!) {\n    resetPassword(token: $token, newPassword: $newPassword) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyEmail($token: String!) {\n    verifyEmail(token: $token) {\n      id\n      email\n      emailVerified\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HostTenant {\n    hostTenant {\n      id\n      name\n      displayName\n      logoUrl\n      primaryColor\n      accentColor\n    }\n  }\n"): (typeof documents)["\n  query HostTenant {\n    hostTenant {\n      id\n      name\n      displayName\n      logoUrl\n      primaryColor\n      accentColor\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenantRefusal\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      user {\n        id\n        email\n        emailVerified\n      }\n      role\n      isPlatformAdmin\n      tenantRefusal\n      tenant {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        branding {\n          displayName\n          logoUrl\n          primaryColor\n          accentColor\n          supportEmail\n        }\n      }\n      memberships {\n        role\n        tenant {\n          id\n          name\n          slug\n          status\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"): (typeof documents)["\n  mutation RequestEmailVerification {\n    requestEmailVerification\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Overview {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n      }\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminTenants(\n    $first: Int\n    $after: String\n    $search: String\n    $status: TenantStatus\n    $plan: String\n    $orderBy: TenantOrder\n  ) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $orderBy) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          name\n          slug\n          status\n          planKey\n          memberCount\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminTenants(\n    $first: Int\n    $after: String\n    $search: String\n    $status: TenantStatus\n    $plan: String\n    $orderBy: TenantOrder\n  ) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenants(first: $first, after: $after, search: $search, status: $status, plan: $plan, orderBy: $orderBy) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          id\n          name\n          slug\n          status\n          planKey\n          memberCount\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminTenant($id: ID!, $from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenant(id: $id) {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        createdAt\n        memberCount\n        plan {\n          key\n          name\n        }\n        members(first: 50) {\n          nodes {\n            role\n            joinedAt\n            user {\n              id\n              email\n            }\n          }\n        }\n        apiKeys(first: 50) {\n          nodes {\n            id\n            name\n            displayPrefix\n            environment\n            state\n            scopes\n            lastUsedAt\n            createdAt\n          }\n        }\n        billing {\n          configured\n          warning\n          subscription {\n            status\n            planKey\n            interval\n            currentPeriodEnd\n            cancelAtPeriodEnd\n            trialEnd\n          }\n        }\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminTenant($id: ID!, $from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      tenant(id: $id) {\n        id\n        name\n        slug\n        status\n        statusReason\n        planKey\n        createdAt\n        memberCount\n        plan {\n          key\n          name\n        }\n        members(first: 50) {\n          nodes {\n            role\n            joinedAt\n            user {\n              id\n              email\n            }\n          }\n        }\n        apiKeys(first: 50) {\n          nodes {\n            id\n            name\n            displayPrefix\n            environment\n            state\n            scopes\n            lastUsedAt\n            createdAt\n          }\n        }\n        billing {\n          configured\n          warning\n          subscription {\n            status\n            planKey\n            interval\n            currentPeriodEnd\n            cancelAtPeriodEnd\n            trialEnd\n          }\n        }\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminTenantAudit($id: ID!, $after: String) {\n    admin {\n      tenant(id: $id) {\n        id\n        auditLog(first: 20, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            id\n            action\n            actorType\n            actorLabel\n            ip\n            createdAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminTenantAudit($id: ID!, $after: String) {\n    admin {\n      tenant(id: $id) {\n        id\n        auditLog(first: 20, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            id\n            action\n            actorType\n            actorLabel\n            ip\n            createdAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SuspendTenant($id: ID!, $reason: String!) {\n    suspendTenant(id: $id, reason: $reason) {\n      id\n      status\n      statusReason\n    }\n  }\n"): (typeof documents)["\n  mutation SuspendTenant($id: ID!, $reason: String!) {\n    suspendTenant(id: $id, reason: $reason) {\n      id\n      status\n      statusReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReactivateTenant($id: ID!) {\n    reactivateTenant(id: $id) {\n      id\n      status\n      statusReason\n    }\n  }\n"): (typeof documents)["\n  mutation ReactivateTenant($id: ID!) {\n    reactivateTenant(id: $id) {\n      id\n      status\n      statusReason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTenantPlan($tenantId: ID!, $planKey: String!) {\n    setTenantPlan(tenantId: $tenantId, planKey: $planKey) {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SetTenantPlan($tenantId: ID!, $planKey: String!) {\n    setTenantPlan(tenantId: $tenantId, planKey: $planKey) {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminStats($from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      stats {\n        tenants\n        activeTenants\n        suspendedTenants\n        users\n        activeUsers\n        tenantsByPlan {\n          planKey\n          tenants\n        }\n        activeSubscriptions\n        mrr {\n          currency\n          amount\n        }\n        byPlan {\n          planKey\n          activeSubscriptions\n          mrr {\n            currency\n            amount\n          }\n        }\n        apiCallsToday\n        eventsToday\n      }\n      usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n        total\n        points {\n          at\n          value\n        }\n      }\n      topConsumers(metric: \"api_calls\", from: $from, to: $to, first: 10) {\n        total\n        tenant {\n          id\n          name\n          slug\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AdminStats($from: DateTime!, $to: DateTime!) {\n    admin {\n      plans {\n        key\n        name\n      }\n      stats {\n        tenants\n        activeTenants\n        suspendedTenants\n        users\n        activeUsers\n        tenantsByPlan {\n          planKey\n          tenants\n        }\n        activeSubscriptions\n        mrr {\n          currency\n          amount\n        }\n        byPlan {\n          planKey\n          activeSubscriptions\n          mrr {\n            currency\n            amount\n          }\n        }\n        apiCallsToday\n        eventsToday\n      }\n      usage(metric: \"api_calls\", from: $from, to: $to, granularity: DAY) {\n        total\n        points {\n          at\n          value\n        }\n      }\n      topConsumers(metric: \"api_calls\", from: $from, to: $to, first: 10) {\n        total\n        tenant {\n          id\n          name\n          slug\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n"): (typeof documents)["\n  fragment AuditEntryFields on AuditEntry {\n    id\n    action\n    actorType\n    actorId\n    actorLabel\n    targetType\n    targetId\n    ip\n    userAgent\n    requestId\n    before\n    after\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($first: Int!, $after: String, $filter: AuditLogFilter) {\n    tenant {\n      id\n      auditLog(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...AuditEntryFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditActors {\n    tenant {\n      id\n      members(first: 100) {\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          displayPrefix\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n"): (typeof documents)["\n  subscription AuditEvents {\n    auditEvents {\n      ...AuditEntryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BillingBanner {\n    tenant {\n      id\n      billing {\n        warning\n        subscription {\n          status\n          trialEnd\n          cancelAtPeriodEnd\n          plan {\n            key\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query BillingBanner {\n    tenant {\n      id\n      billing {\n        warning\n        subscription {\n          status\n          trialEnd\n          cancelAtPeriodEnd\n          plan {\n            key\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BillingPlans {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n    plans {\n      key\n      name\n      monthlyPrice {\n        amount\n        currency\n        formatted\n      }\n      yearlyPrice {\n        amount\n        currency\n        formatted\n      }\n      limits {\n        members\n        apiCallsPerHour\n        monthlyQuotas {\n          metric\n          limit\n        }\n      }\n      features {\n        customBranding\n        auditRetentionDays\n        ssoReady\n        customDomain\n      }\n      trialDays\n    }\n  }\n"): (typeof documents)["\n  query BillingPlans {\n    viewer {\n      role\n    }\n    tenant {\n      id\n      planKey\n      plan {\n        key\n        name\n      }\n    }\n    plans {\n      key\n      name\n      monthlyPrice {\n        amount\n        currency\n        formatted\n      }\n      yearlyPrice {\n        amount\n        currency\n        formatted\n      }\n      limits {\n        members\n        apiCallsPerHour\n        monthlyQuotas {\n          metric\n          limit\n        }\n      }\n      features {\n        customBranding\n        auditRetentionDays\n        ssoReady\n        customDomain\n      }\n      trialDays\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantBilling($first: Int!, $after: String) {\n    tenant {\n      id\n      planKey\n      billing {\n        configured\n        customerPortalAvailable\n        warning\n        subscription {\n          status\n          planKey\n          plan {\n            key\n            name\n          }\n          interval\n          currentPeriodStart\n          currentPeriodEnd\n          cancelAtPeriodEnd\n          trialEnd\n          canceledAt\n        }\n        invoices(first: $first, after: $after) {\n          nodes {\n            id\n            number\n            status\n            total\n            currency\n            hostedInvoiceUrl\n            pdfUrl\n            periodStart\n            periodEnd\n            createdAt\n          }\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantBilling($first: Int!, $after: String) {\n    tenant {\n      id\n      planKey\n      billing {\n        configured\n        customerPortalAvailable\n        warning\n        subscription {\n          status\n          planKey\n          plan {\n            key\n            name\n          }\n          interval\n          currentPeriodStart\n          currentPeriodEnd\n          cancelAtPeriodEnd\n          trialEnd\n          canceledAt\n        }\n        invoices(first: $first, after: $after) {\n          nodes {\n            id\n            number\n            status\n            total\n            currency\n            hostedInvoiceUrl\n            pdfUrl\n            periodStart\n            periodEnd\n            createdAt\n          }\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateCheckoutSession($planKey: String!, $interval: BillingInterval!) {\n    createCheckoutSession(planKey: $planKey, interval: $interval) {\n      id\n      url\n    }\n  }\n"): (typeof documents)["\n  mutation CreateCheckoutSession($planKey: String!, $interval: BillingInterval!) {\n    createCheckoutSession(planKey: $planKey, interval: $interval) {\n      id\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBillingPortalSession {\n    createBillingPortalSession {\n      url\n    }\n  }\n"): (typeof documents)["\n  mutation CreateBillingPortalSession {\n    createBillingPortalSession {\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePlan($planKey: String!, $interval: BillingInterval!) {\n    changePlan(planKey: $planKey, interval: $interval) {\n      status\n      planKey\n      interval\n    }\n  }\n"): (typeof documents)["\n  mutation ChangePlan($planKey: String!, $interval: BillingInterval!) {\n    changePlan(planKey: $planKey, interval: $interval) {\n      status\n      planKey\n      interval\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelSubscription($atPeriodEnd: Boolean!) {\n    cancelSubscription(atPeriodEnd: $atPeriodEnd) {\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n    }\n  }\n"): (typeof documents)["\n  mutation CancelSubscription($atPeriodEnd: Boolean!) {\n    cancelSubscription(atPeriodEnd: $atPeriodEnd) {\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeSubscription {\n    resumeSubscription {\n      status\n      cancelAtPeriodEnd\n    }\n  }\n"): (typeof documents)["\n  mutation ResumeSubscription {\n    resumeSubscription {\n      status\n      cancelAtPeriodEnd\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CustomDomain {\n    tenant {\n      id\n      plan {\n        key\n        name\n        features {\n          customDomain\n        }\n      }\n      customDomain {\n        domain\n        status\n        recordName\n        recordValue\n        verifiedAt\n        lastCheckedAt\n        lastResult\n        missingSince\n      }\n    }\n  }\n"): (typeof documents)["\n  query CustomDomain {\n    tenant {\n      id\n      plan {\n        key\n        name\n        features {\n          customDomain\n        }\n      }\n      customDomain {\n        domain\n        status\n        recordName\n        recordValue\n        verifiedAt\n        lastCheckedAt\n        lastResult\n        missingSince\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetCustomDomain($domain: String!) {\n    setCustomDomain(domain: $domain) {\n      domain\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation SetCustomDomain($domain: String!) {\n    setCustomDomain(domain: $domain) {\n      domain\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation VerifyCustomDomain {\n    verifyCustomDomain {\n      domain\n      status\n      lastResult\n    }\n  }\n"): (typeof documents)["\n  mutation VerifyCustomDomain {\n    verifyCustomDomain {\n      domain\n      status\n      lastResult\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveCustomDomain {\n    removeCustomDomain\n  }\n"): (typeof documents)["\n  mutation RemoveCustomDomain {\n    removeCustomDomain\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantDeletion {\n    tenant {\n      id\n      slug\n      name\n      status\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantDeletion {\n    tenant {\n      id\n      slug\n      name\n      status\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTenant($confirmSlug: String!) {\n    deleteTenant(confirmSlug: $confirmSlug) {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteTenant($confirmSlug: String!) {\n    deleteTenant(confirmSlug: $confirmSlug) {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelTenantDeletion {\n    cancelTenantDeletion {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelTenantDeletion {\n    cancelTenantDeletion {\n      id\n      status\n      statusReason\n      deletion {\n        scheduledAt\n        purgeAfter\n        requestedBy\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteMyAccount {\n    deleteMyAccount\n  }\n"): (typeof documents)["\n  mutation DeleteMyAccount {\n    deleteMyAccount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Reauthenticate($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation Reauthenticate($input: LogInInput!) {\n    logIn(input: $input) {\n      accessToken\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PurgeTenant($id: ID!) {\n    purgeTenant(id: $id) {\n      peopleErased\n      rowsDeleted\n      tombstone {\n        id\n        purgedAt\n        reason\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation PurgeTenant($id: ID!) {\n    purgeTenant(id: $id) {\n      peopleErased\n      rowsDeleted\n      tombstone {\n        id\n        purgedAt\n        reason\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DataExportFields on DataExport {\n    id\n    kind\n    status\n    progress\n    createdAt\n    finishedAt\n    expiresAt\n    sizeBytes\n    checksum\n    error\n  }\n"): (typeof documents)["\n  fragment DataExportFields on DataExport {\n    id\n    kind\n    status\n    progress\n    createdAt\n    finishedAt\n    expiresAt\n    sizeBytes\n    checksum\n    error\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantDataExports {\n    tenant {\n      id\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantDataExports {\n    tenant {\n      id\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyDataExports {\n    viewer {\n      user {\n        id\n        email\n      }\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyDataExports {\n    viewer {\n      user {\n        id\n        email\n      }\n      dataExports(first: 5) {\n        nodes {\n          ...DataExportFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestDataExport {\n    requestDataExport {\n      ...DataExportFields\n    }\n  }\n"): (typeof documents)["\n  mutation RequestDataExport {\n    requestDataExport {\n      ...DataExportFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RequestMyDataExport {\n    requestMyDataExport {\n      ...DataExportFields\n    }\n  }\n"): (typeof documents)["\n  mutation RequestMyDataExport {\n    requestMyDataExport {\n      ...DataExportFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantExportLink($id: ID!) {\n    tenant {\n      id\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantExportLink($id: ID!) {\n    tenant {\n      id\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyExportLink($id: ID!) {\n    viewer {\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyExportLink($id: ID!) {\n    viewer {\n      dataExport(id: $id) {\n        id\n        downloadUrl\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n"): (typeof documents)["\n  fragment ApiKeyFields on ApiKey {\n    id\n    name\n    environment\n    displayPrefix\n    scopes\n    state\n    rateLimit {\n      limit\n      periodSeconds\n    }\n    expiresAt\n    revokedAt\n    rotationEndsAt\n    lastUsedAt\n    createdById\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApiKeys($first: Int!, $after: String, $filter: ApiKeyFilter) {\n    tenant {\n      id\n      apiKeys(first: $first, after: $after, filter: $filter) {\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n        nodes {\n          ...ApiKeyFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query KeyCreators {\n    tenant {\n      id\n      members(first: 100) {\n        pageInfo {\n          hasNextPage\n        }\n        nodes {\n          user {\n            id\n            email\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApiKey($id: ID!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      apiKey(id: $id) {\n        ...ApiKeyFields\n        usage(metric: \"api_calls\", from: $from, to: $to, granularity: $granularity) {\n          granularity\n          environment\n          total\n          points {\n            at\n            value\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateApiKey($input: CreateApiKeyInput!) {\n    createApiKey(input: $input) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RotateApiKey($id: ID!, $gracePeriodSeconds: Int!) {\n    rotateApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {\n      secret\n      apiKey {\n        ...ApiKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeApiKey($id: ID!) {\n    revokeApiKey(id: $id) {\n      ...ApiKeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Publishable {\n    tenant {\n      id\n      publishableKeys {\n        id\n        name\n        environment\n        key\n        createdAt\n        revokedAt\n      }\n      allowedOrigins {\n        origin\n        createdAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Publishable {\n    tenant {\n      id\n      publishableKeys {\n        id\n        name\n        environment\n        key\n        createdAt\n        revokedAt\n      }\n      allowedOrigins {\n        origin\n        createdAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePublishableKey($input: CreatePublishableKeyInput!) {\n    createPublishableKey(input: $input) {\n      id\n      name\n      environment\n      key\n      createdAt\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  mutation CreatePublishableKey($input: CreatePublishableKeyInput!) {\n    createPublishableKey(input: $input) {\n      id\n      name\n      environment\n      key\n      createdAt\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokePublishableKey($id: ID!) {\n    revokePublishableKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  mutation RevokePublishableKey($id: ID!) {\n    revokePublishableKey(id: $id) {\n      id\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddAllowedOrigin($origin: String!) {\n    addAllowedOrigin(origin: $origin) {\n      origin\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  mutation AddAllowedOrigin($origin: String!) {\n    addAllowedOrigin(origin: $origin) {\n      origin\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveAllowedOrigin($origin: String!) {\n    removeAllowedOrigin(origin: $origin)\n  }\n"): (typeof documents)["\n  mutation RemoveAllowedOrigin($origin: String!) {\n    removeAllowedOrigin(origin: $origin)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"): (typeof documents)["\n  query TenantSettings {\n    tenant {\n      id\n      name\n      slug\n      plan {\n        key\n        name\n        features {\n          customBranding\n        }\n      }\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateTenant($input: UpdateTenantInput!) {\n    updateTenant(input: $input) {\n      id\n      name\n      slug\n      branding {\n        displayName\n        logoUrl\n        primaryColor\n        accentColor\n        supportEmail\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TeamMembers($first: Int!, $after: String) {\n    tenant {\n      id\n      name\n      memberCount\n      members(first: $first, after: $after) {\n        nodes {\n          role\n          joinedAt\n          user {\n            id\n            email\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after, filter: OPEN) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TeamInvitations($first: Int!, $after: String) {\n    tenant {\n      id\n      invitations(first: $first, after: $after, filter: OPEN) {\n        nodes {\n          id\n          email\n          role\n          status\n          createdAt\n          expiresAt\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation InviteMember($input: InviteMemberInput!) {\n    inviteMember(input: $input) {\n      id\n      email\n      role\n      status\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ResendInvitation($id: ID!) {\n    resendInvitation(id: $id) {\n      id\n      email\n      status\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      role\n      user {\n        id\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LeaveTenant {\n    leaveTenant\n  }\n"): (typeof documents)["\n  mutation LeaveTenant {\n    leaveTenant\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Quotas {\n    tenant {\n      id\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"): (typeof documents)["\n  query Quotas {\n    tenant {\n      id\n      quotas {\n        metric\n        used\n        limit\n        percent\n        resetsAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageMetrics {\n    metrics {\n      key\n      name\n      unit\n      aggregation\n    }\n  }\n"): (typeof documents)["\n  query UsageMetrics {\n    metrics {\n      key\n      name\n      unit\n      aggregation\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageSeries($metric: String!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      usage(metric: $metric, from: $from, to: $to, granularity: $granularity) {\n        metric\n        granularity\n        from\n        to\n        total\n        totalExact\n        points {\n          at\n          value\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query UsageSeries($metric: String!, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {\n    tenant {\n      id\n      usage(metric: $metric, from: $from, to: $to, granularity: $granularity) {\n        metric\n        granularity\n        from\n        to\n        total\n        totalExact\n        points {\n          at\n          value\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription UsageUpdated {\n    usageUpdated {\n      metric\n      used\n      limit\n      percent\n      resetsAt\n    }\n  }\n"): (typeof documents)["\n  subscription UsageUpdated {\n    usageUpdated {\n      metric\n      used\n      limit\n      percent\n      resetsAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id\n    url\n    description\n    eventTypes\n    enabled\n    disabledReason\n    disabledAt\n    failingSince\n    previousSecretExpiresAt\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment WebhookEndpointFields on WebhookEndpoint {\n    id\n    url\n    description\n    eventTypes\n    enabled\n    disabledReason\n    disabledAt\n    failingSince\n    previousSecretExpiresAt\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookAttemptFields on WebhookAttempt {\n    id\n    attemptedAt\n    statusCode\n    latencyMs\n    responseExcerpt\n    error\n  }\n"): (typeof documents)["\n  fragment WebhookAttemptFields on WebhookAttempt {\n    id\n    attemptedAt\n    statusCode\n    latencyMs\n    responseExcerpt\n    error\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id\n    endpointId\n    eventId\n    eventType\n    payload\n    status\n    attemptCount\n    nextAttemptAt\n    replayOf\n    createdAt\n    completedAt\n    attempts {\n      ...WebhookAttemptFields\n    }\n  }\n"): (typeof documents)["\n  fragment WebhookDeliveryFields on WebhookDelivery {\n    id\n    endpointId\n    eventId\n    eventType\n    payload\n    status\n    attemptCount\n    nextAttemptAt\n    replayOf\n    createdAt\n    completedAt\n    attempts {\n      ...WebhookAttemptFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpoints {\n    tenant {\n      id\n      webhookEndpoints {\n        ...WebhookEndpointFields\n        deliveries(first: 1) {\n          nodes {\n            id\n            eventType\n            status\n            createdAt\n            completedAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebhookEndpoints {\n    tenant {\n      id\n      webhookEndpoints {\n        ...WebhookEndpointFields\n        deliveries(first: 1) {\n          nodes {\n            id\n            eventType\n            status\n            createdAt\n            completedAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEndpoint($id: ID!, $first: Int!, $after: String) {\n    tenant {\n      id\n      webhookEndpoint(id: $id) {\n        ...WebhookEndpointFields\n        deliveries(first: $first, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            ...WebhookDeliveryFields\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebhookEndpoint($id: ID!, $first: Int!, $after: String) {\n    tenant {\n      id\n      webhookEndpoint(id: $id) {\n        ...WebhookEndpointFields\n        deliveries(first: $first, after: $after) {\n          pageInfo {\n            hasNextPage\n            endCursor\n          }\n          nodes {\n            ...WebhookDeliveryFields\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookEventTypes {\n    webhookEventTypes\n  }\n"): (typeof documents)["\n  query WebhookEventTypes {\n    webhookEventTypes\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {\n    createWebhookEndpoint(input: $input) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(input: $input) {\n      ...WebhookEndpointFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {\n    updateWebhookEndpoint(input: $input) {\n      ...WebhookEndpointFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteWebhookEndpoint($id: ID!) {\n    deleteWebhookEndpoint(id: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n      endpoint {\n        ...WebhookEndpointFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendTestWebhook($id: ID!) {\n    sendTestWebhook(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n"): (typeof documents)["\n  mutation SendTestWebhook($id: ID!) {\n    sendTestWebhook(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayWebhookDelivery($id: ID!) {\n    replayWebhookDelivery(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n"): (typeof documents)["\n  mutation ReplayWebhookDelivery($id: ID!) {\n    replayWebhookDelivery(id: $id) {\n      ...WebhookDeliveryFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshSession {\n    refreshSession {\n      accessToken\n      expiresAt\n      tenantId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LogOut {\n    logOut\n  }\n"): (typeof documents)["\n  mutation LogOut {\n    logOut\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation SwitchTenant($tenantId: ID!) {\n    switchTenant(tenantId: $tenantId) {\n      accessToken\n      expiresAt\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;