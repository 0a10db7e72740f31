// Data exports' operations: a workspace's (owners) and a person's own.
import { graphql } from '../../../gql';

export const DataExportFields = graphql(`
  fragment DataExportFields on DataExport {
    id
    kind
    status
    progress
    createdAt
    finishedAt
    expiresAt
    sizeBytes
    checksum
    error
  }
`);

export const TenantDataExportsDocument = graphql(`
  query TenantDataExports {
    tenant {
      id
      dataExports(first: 5) {
        nodes {
          ...DataExportFields
        }
      }
    }
  }
`);

export const MyDataExportsDocument = graphql(`
  query MyDataExports {
    viewer {
      user {
        id
        email
      }
      dataExports(first: 5) {
        nodes {
          ...DataExportFields
        }
      }
    }
  }
`);

export const RequestDataExportDocument = graphql(`
  mutation RequestDataExport {
    requestDataExport {
      ...DataExportFields
    }
  }
`);

export const RequestMyDataExportDocument = graphql(`
  mutation RequestMyDataExport {
    requestMyDataExport {
      ...DataExportFields
    }
  }
`);

// Each read mints a single-use link (and sets its cookie): read it only to download.
export const TenantExportLinkDocument = graphql(`
  query TenantExportLink($id: ID!) {
    tenant {
      id
      dataExport(id: $id) {
        id
        downloadUrl
      }
    }
  }
`);

export const MyExportLinkDocument = graphql(`
  query MyExportLink($id: ID!) {
    viewer {
      dataExport(id: $id) {
        id
        downloadUrl
      }
    }
  }
`);
