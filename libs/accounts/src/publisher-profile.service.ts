import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { acceptableEmail } from './email';
import { PublisherEntity } from './entities';

export interface PublisherProfile {
  slug: string;
  displayName: string;
  supportEmail: string | null;
}

/** What a publisher tells buyers about itself beyond its name: for now, where support mail goes. */
@Injectable()
export class PublisherProfileService {
  constructor(private readonly dataSource: DataSource) {}

  async get(publisherId: string): Promise<PublisherProfile | null> {
    const p = await this.dataSource.getRepository(PublisherEntity).findOne({ where: { id: publisherId } });
    return p && { slug: p.slug, displayName: p.displayName, supportEmail: p.supportEmail };
  }

  /** Sets (or with null clears) the support address; refused like a sign-up address when not deliverable. */
  async setSupportEmail(publisherId: string, email: string | null): Promise<PublisherProfile> {
    const supportEmail = email === null ? null : acceptableEmail(email);
    await this.dataSource.getRepository(PublisherEntity).update({ id: publisherId }, { supportEmail });
    return (await this.get(publisherId))!;
  }
}
