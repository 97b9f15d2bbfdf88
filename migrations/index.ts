// Every migration, in order. `npm run migration:generate -- migrations/<Name>` writes a new file:
// add its class here (CI's migration check fails until entities and this list agree).
import type { MigrationInterface } from 'typeorm';
import { Init1795840809629 } from './1795840809629-Init';
import { LicensesAndOrders1795843807179 } from './1795843807179-LicensesAndOrders';
import { OrderAnchorDisputesRefunds1795870488566 } from './1795870488566-OrderAnchorDisputesRefunds';
import { ProvenanceSize1795880000001 } from './1795880000001-ProvenanceSize';
import { CheckoutExpiry1796179351000 } from './1796179351000-CheckoutExpiry';
import { RateLimitWindows1796179386473 } from './1796179386473-RateLimitWindows';
import { AccountSessionEpoch1796179470839 } from './1796179470839-AccountSessionEpoch';
import { PublisherUsage1796183009810 } from './1796183009810-PublisherUsage';
import { MailOutbox1796230000000 } from './1796230000000-MailOutbox';
import { ChartVersionValues1796240000000 } from './1796240000000-ChartVersionValues';
import { ChartSearch1796240000001 } from './1796240000001-ChartSearch';
import { BuyerSignIn1796250000000 } from './1796250000000-BuyerSignIn';
import { ChartDownloads1796250000001 } from './1796250000001-ChartDownloads';
import { PublisherSupportEmail1796250000002 } from './1796250000002-PublisherSupportEmail';
import { AccountMail1796250000003 } from './1796250000003-AccountMail';
import { LiveVersionIndex1796250000004 } from './1796250000004-LiveVersionIndex';
import { AuditLog1796250000005 } from './1796250000005-AuditLog';
import { LicensePublisherNote1796250000006 } from './1796250000006-LicensePublisherNote';
import { LicenseDownloadTotal1796250000010 } from './1796250000010-LicenseDownloadTotal';
import { OciRegistry1796250000011 } from './1796250000011-OciRegistry';
import { Payouts1796250000012 } from './1796250000012-Payouts';
import { ImagePulls1796250000013 } from './1796250000013-ImagePulls';
import { TemplateImages1796250000014 } from './1796250000014-TemplateImages';
import { ConsoleSessions1796250000008 } from './1796250000008-ConsoleSessions';
import { PublisherLogo1796250000009 } from './1796250000009-PublisherLogo';
import { DownloadAnalytics1796250000007 } from './1796250000007-DownloadAnalytics';

export const MIGRATIONS: Array<new () => MigrationInterface> = [
  Init1795840809629,
  LicensesAndOrders1795843807179,
  OrderAnchorDisputesRefunds1795870488566,
  ProvenanceSize1795880000001,
  CheckoutExpiry1796179351000,
  RateLimitWindows1796179386473,
  AccountSessionEpoch1796179470839,
  PublisherUsage1796183009810,
  MailOutbox1796230000000,
  ChartVersionValues1796240000000,
  ChartSearch1796240000001,
  BuyerSignIn1796250000000,
  ChartDownloads1796250000001,
  PublisherSupportEmail1796250000002,
  AccountMail1796250000003,
  LiveVersionIndex1796250000004,
  AuditLog1796250000005,
  LicensePublisherNote1796250000006,
  DownloadAnalytics1796250000007,
  ConsoleSessions1796250000008,
  PublisherLogo1796250000009,
  LicenseDownloadTotal1796250000010,
  OciRegistry1796250000011,
  Payouts1796250000012,
  ImagePulls1796250000013,
  TemplateImages1796250000014,
];
